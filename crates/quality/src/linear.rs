//! L2-regularised linear fits on dense `f64` features, solved by Newton's method with a
//! Cholesky factorisation (deterministic, no learning rate; a few hundred features).

/// Dense row-major matrix view: `rows × cols`.
#[derive(Debug, Clone)]
pub struct Mat {
    /// Row count.
    pub rows: usize,
    /// Column count.
    pub cols: usize,
    /// Values, row-major.
    pub data: Vec<f64>,
}

impl Mat {
    /// A zero matrix.
    pub fn zeros(rows: usize, cols: usize) -> Mat {
        Mat { rows, cols, data: vec![0.0; rows * cols] }
    }
    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// In-place Cholesky solve of `A x = b` for symmetric positive definite `A` (`p × p`,
/// row-major). Returns `None` if `A` is not positive definite.
fn cholesky_solve(mut a: Vec<f64>, p: usize, b: &[f64]) -> Option<Vec<f64>> {
    for j in 0..p {
        let mut d = a[j * p + j];
        for k in 0..j {
            d -= a[j * p + k] * a[j * p + k];
        }
        if d <= 0.0 || !d.is_finite() {
            return None;
        }
        let d = d.sqrt();
        a[j * p + j] = d;
        for i in j + 1..p {
            let mut s = a[i * p + j];
            for k in 0..j {
                s -= a[i * p + k] * a[j * p + k];
            }
            a[i * p + j] = s / d;
        }
    }
    let mut y = b.to_vec();
    for i in 0..p {
        for k in 0..i {
            y[i] -= a[i * p + k] * y[k];
        }
        y[i] /= a[i * p + i];
    }
    for i in (0..p).rev() {
        for k in i + 1..p {
            y[i] -= a[k * p + i] * y[k];
        }
        y[i] /= a[i * p + i];
    }
    Some(y)
}

fn log1pexp(x: f64) -> f64 {
    if x > 30.0 { x } else { x.exp().ln_1p() }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Pairwise logistic regression (RankNet with a linear scorer, no bias): minimises
/// `Σ_i log(1 + exp(−w·d_i)) + λ/2 ‖w‖²` over difference rows `d_i = f(better) − f(worse)`.
/// Returns `w`. Converges in ~10 Newton steps; stops when the step is below 1e-8.
pub fn pairwise_logistic(diffs: &Mat, lambda: f64) -> Vec<f64> {
    let (n, p) = (diffs.rows, diffs.cols);
    let mut w = vec![0.0; p];
    let mut prev = f64::INFINITY;
    for _ in 0..50 {
        let margins: Vec<f64> = (0..n).map(|i| dot(diffs.row(i), &w)).collect();
        let loss: f64 = margins.iter().map(|&m| log1pexp(-m)).sum::<f64>() + 0.5 * lambda * dot(&w, &w);
        // Gradient and Hessian of the objective.
        let mut g: Vec<f64> = w.iter().map(|x| lambda * x).collect();
        let mut h = vec![0.0; p * p];
        for (i, &m) in margins.iter().enumerate() {
            let d = diffs.row(i);
            let s = sigmoid(-m);
            let c = s * (1.0 - s);
            for a in 0..p {
                g[a] -= s * d[a];
                let ca = c * d[a];
                let row = &mut h[a * p..a * p + a + 1];
                for (b, hv) in row.iter_mut().enumerate() {
                    *hv += ca * d[b];
                }
            }
        }
        for a in 0..p {
            h[a * p + a] += lambda;
            for b in 0..a {
                h[b * p + a] = h[a * p + b];
            }
        }
        let step = cholesky_solve(h, p, &g).expect("regularised Hessian is positive definite");
        // Newton step with backtracking on the objective.
        let mut t = 1.0;
        let mut next;
        loop {
            next = w.iter().zip(&step).map(|(x, s)| x - t * s).collect::<Vec<f64>>();
            let l: f64 =
                (0..n).map(|i| log1pexp(-dot(diffs.row(i), &next))).sum::<f64>() + 0.5 * lambda * dot(&next, &next);
            if l <= loss || t < 1e-4 {
                break;
            }
            t *= 0.5;
        }
        let moved = step.iter().map(|s| (t * s).abs()).fold(0.0, f64::max);
        w = next;
        if moved < 1e-8 || (prev - loss).abs() < 1e-12 * (1.0 + loss.abs()) {
            break;
        }
        prev = loss;
    }
    w
}

/// Ridge regression with an unpenalised bias (CaR's pointwise MSE objective, closed form):
/// minimises `Σ (w·x_i + b − y_i)² + λ ‖w‖²`. Returns `(w, b)`.
pub fn ridge(x: &Mat, y: &[f64], lambda: f64) -> (Vec<f64>, f64) {
    let (n, p) = (x.rows, x.cols);
    let ym = y.iter().sum::<f64>() / n as f64;
    let mut xm = vec![0.0; p];
    for i in 0..n {
        for (m, v) in xm.iter_mut().zip(x.row(i)) {
            *m += v / n as f64;
        }
    }
    let mut h = vec![0.0; p * p];
    let mut g = vec![0.0; p];
    let mut c = vec![0.0; p];
    for (i, &yv) in y.iter().enumerate().take(n) {
        for (k, v) in c.iter_mut().enumerate() {
            *v = x.row(i)[k] - xm[k];
        }
        let yi = yv - ym;
        for a in 0..p {
            g[a] += c[a] * yi;
            for b in 0..=a {
                h[a * p + b] += c[a] * c[b];
            }
        }
    }
    for a in 0..p {
        h[a * p + a] += lambda;
        for b in 0..a {
            h[b * p + a] = h[a * p + b];
        }
    }
    let w = cholesky_solve(h, p, &g).expect("ridge system is positive definite");
    let b = ym - dot(&w, &xm);
    (w, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logistic_learns_direction() {
        // Better rows differ by +1 on feature 0 plus noise on feature 1.
        let mut d = Mat::zeros(40, 2);
        for i in 0..40 {
            d.data[i * 2] = 1.0 + 0.1 * ((i % 7) as f64 - 3.0);
            d.data[i * 2 + 1] = if i % 2 == 0 { 1.0 } else { -1.0 };
        }
        let w = pairwise_logistic(&d, 0.1);
        assert!(w[0] > 1.0, "{w:?}");
        assert!(w[1].abs() < 0.1 * w[0], "{w:?}");
    }

    #[test]
    fn ridge_recovers_line() {
        let x = Mat { rows: 10, cols: 1, data: (0..10).map(|i| i as f64).collect() };
        let y: Vec<f64> = x.data.iter().map(|v| 2.0 * v + 1.0).collect();
        let (w, b) = ridge(&x, &y, 1e-9);
        assert!((w[0] - 2.0).abs() < 1e-6 && (b - 1.0).abs() < 1e-6);
    }
}
