//! Intel AMX (Advanced Matrix Extensions) GEMM in bf16 tiles, for `x · Wᵀ` with a fixed `W`.
//!
//! Two precisions ([`Precision`]):
//! - [`Precision::Bf16x3`]: every f32 operand is split into `hi = bf16(v)` and
//!   `lo = bf16(v − hi)`, and the product is `hi·hi′ + hi·lo′ + lo·hi′` accumulated in f32 by
//!   the tile unit. The terms left out are below 2⁻¹⁶ of the product, so results agree with
//!   f32 GEMM to about 1e-5 relative (tests check it) at a fraction of the cost;
//! - [`Precision::Bf16`]: one pass, `hi·hi′` (about 3 significant digits per operand).
//!
//! Used only when the CPU has AMX-TILE and AMX-BF16 *and* the Linux kernel grants the tile
//! state to the process (`arch_prctl(ARCH_REQ_XCOMP_PERM)`); [`available`] checks both once.
//! Setting `GLEANER_NO_AMX=1` turns it off. Everything else falls back to the f32 path.
//!
//! Tile layout: C tiles are 16×16 f32, A tiles 16 rows × 32 bf16 of the activations, B tiles
//! the weights packed in pairs along k ("VNNI" layout: row `r` of a B tile holds, for each of 16
//! output columns, the two bf16 values at k = 2r and 2r + 1). Each step of the inner loop
//! computes a 32×32 block of the output with the 8 tile registers: 4 accumulators, 2 A, 2 B.

use std::sync::OnceLock;

/// Arithmetic used by dense layers ([`crate::Linear`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// Plain f32 GEMM (the `gemm` crate). The reference path.
    F32,
    /// AMX bf16 with three-term splitting: f32-level agreement, faster where AMX exists.
    Bf16x3,
    /// AMX bf16, one term: fastest, about 3 significant digits per operand.
    Bf16,
}

const TILE_K: usize = 32; // bf16 values per A-tile row (64 bytes)
const TILE_N: usize = 16; // output columns per B tile
const TILE_M: usize = 16; // rows per A / C tile
const B_TILE: usize = TILE_K * TILE_N; // bf16 values per packed B tile

/// True when AMX bf16 tiles can be used by this process (checked once).
pub fn available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(detect)
}

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
#[allow(unused_unsafe)]
fn detect() -> bool {
    if std::env::var_os("GLEANER_NO_AMX").is_some_and(|v| !v.is_empty() && v != "0") {
        return false;
    }
    // SAFETY: cpuid is available on every x86_64 CPU.
    let l0 = unsafe { std::arch::x86_64::__cpuid_count(0, 0) };
    if l0.eax < 7 {
        return false;
    }
    // SAFETY: leaf 7 exists (checked above).
    let l7 = unsafe { std::arch::x86_64::__cpuid_count(7, 0) };
    let amx_bf16 = (l7.edx >> 22) & 1 == 1;
    let amx_tile = (l7.edx >> 24) & 1 == 1;
    if !(amx_bf16 && amx_tile) {
        return false;
    }
    const ARCH_REQ_XCOMP_PERM: libc::c_long = 0x1023;
    const XFEATURE_XTILEDATA: libc::c_long = 18;
    // SAFETY: a plain syscall with integer arguments; failure is reported by the return value.
    let r = unsafe { libc::syscall(libc::SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) };
    r == 0
}

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
fn detect() -> bool {
    false
}

/// f32 → bf16 bits, round to nearest even (NaN not special-cased: weights are finite).
#[inline]
fn bf16(v: f32) -> u16 {
    let b = v.to_bits();
    ((b + 0x7FFF + ((b >> 16) & 1)) >> 16) as u16
}

#[inline]
fn from_bf16(h: u16) -> f32 {
    f32::from_bits((h as u32) << 16)
}

/// `(hi, lo)` split of one value.
#[inline]
fn split(v: f32) -> (u16, u16) {
    let hi = bf16(v);
    (hi, bf16(v - from_bf16(hi)))
}

/// One row to bf16 (vectorised: this runs once per activation value of every product).
#[multiversion::multiversion(targets("x86_64+avx512f+avx512bw+avx512vl", "x86_64+avx2+fma"))]
fn bf16_row(src: &[f32], hi: &mut [u16]) {
    for (h, &v) in hi.iter_mut().zip(src) {
        *h = bf16(v);
    }
}

/// One row to `(hi, lo)` bf16 halves.
#[multiversion::multiversion(targets("x86_64+avx512f+avx512bw+avx512vl", "x86_64+avx2+fma"))]
fn split_row(src: &[f32], hi: &mut [u16], lo: &mut [u16]) {
    for ((h, l), &v) in hi.iter_mut().zip(lo.iter_mut()).zip(src) {
        (*h, *l) = split(v);
    }
}

fn round_up(v: usize, to: usize) -> usize {
    v.div_ceil(to) * to
}

/// A weight matrix `W` (`n × k`, PyTorch layout) packed into bf16 B tiles.
#[derive(Debug, Clone)]
pub struct PackedWeights {
    n: usize,
    k: usize,
    /// k padded to a multiple of 32.
    kp: usize,
    /// Column blocks of 16 (n padded to a multiple of 32, so blocks come in pairs).
    nblocks: usize,
    hi: Vec<u16>,
    /// Present for [`Precision::Bf16x3`].
    lo: Option<Vec<u16>>,
}

impl PackedWeights {
    /// Packs `w` (`n × k`, row-major); `with_lo` keeps the low halves for three-term products.
    pub fn new(w: &[f32], n: usize, k: usize, with_lo: bool) -> PackedWeights {
        assert!(w.len() >= n * k, "packed weight shape");
        let kp = round_up(k.max(1), TILE_K);
        let nblocks = round_up(n.max(1), 2 * TILE_N) / TILE_N;
        let kblocks = kp / TILE_K;
        let mut hi = vec![0u16; nblocks * kblocks * B_TILE];
        let mut lo = with_lo.then(|| vec![0u16; nblocks * kblocks * B_TILE]);
        for j in 0..n {
            let (nb, c) = (j / TILE_N, j % TILE_N);
            let row = &w[j * k..(j + 1) * k];
            for (t, &v) in row.iter().enumerate() {
                let (kb, r) = (t / TILE_K, t % TILE_K);
                // tile (nb, kb), row r / 2, column c, slot r % 2
                let at = (nb * kblocks + kb) * B_TILE + (r / 2) * (2 * TILE_N) + c * 2 + (r % 2);
                let (h, l) = split(v);
                hi[at] = h;
                if let Some(lo) = lo.as_mut() {
                    lo[at] = l;
                }
            }
        }
        PackedWeights { n, k, kp, nblocks, hi, lo }
    }

    /// Output features.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Input features.
    pub fn k(&self) -> usize {
        self.k
    }

    /// True when three-term products are possible.
    pub fn has_lo(&self) -> bool {
        self.lo.is_some()
    }
}

/// Activations `x` (`m × k`) as bf16 A tiles: tile `(mt, kb)` (rows `16·mt..`, k `32·kb..`)
/// is 512 contiguous values at `(mt · kblocks + kb) · 512`, zero-padded to `mp × kp`.
#[derive(Default)]
struct PackedRows {
    hi: Vec<u16>,
    lo: Option<Vec<u16>>,
}

const A_TILE: usize = TILE_M * TILE_K;

thread_local! {
    /// Reused activation buffers (hi, lo) of the calling thread: no allocation, page faults or
    /// full zero-fill per product.
    static ROWS: std::cell::RefCell<PackedRows> = const {
        std::cell::RefCell::new(PackedRows { hi: Vec::new(), lo: None })
    };
}

/// Resizes `v` to `len` without clearing what will be overwritten anyway.
fn reuse(v: &mut Vec<u16>, len: usize) {
    if v.len() < len {
        v.resize(len, 0);
    }
    v.truncate(len);
}

#[allow(clippy::too_many_arguments)]
fn pack_rows(
    rows: &mut PackedRows,
    x: &[f32],
    m: usize,
    k: usize,
    kp: usize,
    mp: usize,
    with_lo: bool,
    parallel: bool,
) {
    let kblocks = kp / TILE_K;
    let panel = kblocks * A_TILE; // one m-tile: 16 rows × kp
    reuse(&mut rows.hi, mp * kp);
    if with_lo {
        reuse(rows.lo.get_or_insert_with(Vec::new), mp * kp);
    }
    let lo = if with_lo { rows.lo.as_mut() } else { None };
    let hi = &mut rows.hi;
    // every value of a panel is written: x where i < m and t < k, zero elsewhere (padding)
    let fill = |mt: usize, hi: &mut [u16], mut lo: Option<&mut [u16]>| {
        let mut th = vec![0u16; kp];
        let mut tl = vec![0u16; if lo.is_some() { kp } else { 0 }];
        for r in 0..TILE_M {
            let i = mt * TILE_M + r;
            if i < m {
                let src = &x[i * k..(i + 1) * k];
                if lo.is_some() {
                    split_row(src, &mut th[..k], &mut tl[..k]);
                } else {
                    bf16_row(src, &mut th[..k]);
                }
            } else {
                th[..k].fill(0);
                tl.iter_mut().take(k).for_each(|v| *v = 0);
            }
            for kb in 0..kblocks {
                let at = kb * A_TILE + r * TILE_K;
                hi[at..at + TILE_K].copy_from_slice(&th[kb * TILE_K..(kb + 1) * TILE_K]);
                if let Some(lo) = lo.as_deref_mut() {
                    lo[at..at + TILE_K].copy_from_slice(&tl[kb * TILE_K..(kb + 1) * TILE_K]);
                }
            }
        }
    };
    if parallel && m * k > 1 << 16 {
        use rayon::prelude::*;
        match lo {
            Some(lo) => hi
                .par_chunks_mut(panel)
                .zip(lo.par_chunks_mut(panel))
                .enumerate()
                .for_each(|(mt, (h, l))| fill(mt, h, Some(l))),
            None => hi.par_chunks_mut(panel).enumerate().for_each(|(mt, h)| fill(mt, h, None)),
        }
    } else {
        let mut lo = lo;
        for mt in 0..mp / TILE_M {
            let l = lo.as_mut().map(|l| &mut l[mt * panel..(mt + 1) * panel]);
            fill(mt, &mut hi[mt * panel..(mt + 1) * panel], l);
        }
    }
}

/// Tile configuration for `ldtilecfg`: palette 1, eight 16-row × 64-byte tiles.
#[repr(C, align(64))]
struct TileConfig {
    palette: u8,
    start_row: u8,
    reserved: [u8; 14],
    colsb: [u16; 16],
    rows: [u8; 16],
}

impl TileConfig {
    fn eight_full_tiles() -> TileConfig {
        let mut c = TileConfig { palette: 1, start_row: 0, reserved: [0; 14], colsb: [0; 16], rows: [0; 16] };
        for t in 0..8 {
            c.colsb[t] = 64;
            c.rows[t] = 16;
        }
        c
    }
}

/// `out[m × n] = x[m × k] · Wᵀ` on AMX tiles. Panics if [`available`] is false or `x` is short.
/// `parallel` spreads column blocks over rayon's threads.
pub fn matmul_t(x: &[f32], m: usize, w: &PackedWeights, out: &mut [f32], precision: Precision, parallel: bool) {
    assert!(available(), "AMX is not available");
    assert!(precision != Precision::F32, "matmul_t on AMX needs a bf16 precision");
    let (n, k) = (w.n, w.k);
    assert!(x.len() >= m * k && out.len() >= m * n, "amx matmul_t shapes");
    if m == 0 || n == 0 {
        return;
    }
    let three = precision == Precision::Bf16x3;
    assert!(!three || w.lo.is_some(), "weights packed without low halves");
    let mp = round_up(m, 2 * TILE_M);
    // taken out of the thread-local for the duration (a rayon worker may re-enter through
    // work stealing and then simply gets fresh buffers), and put back afterwards
    let mut rows = ROWS.with_borrow_mut(std::mem::take);
    pack_rows(&mut rows, x, m, k, w.kp, mp, three, parallel);
    product(&rows, w, m, mp, n, out, three, parallel);
    ROWS.with_borrow_mut(|r| *r = rows);
}

#[allow(clippy::too_many_arguments)]
fn product(
    rows: &PackedRows,
    w: &PackedWeights,
    m: usize,
    mp: usize,
    n: usize,
    out: &mut [f32],
    three: bool,
    parallel: bool,
) {
    let k = w.k;
    let pairs = w.nblocks / 2;
    let kblocks = w.kp / TILE_K;
    // Column strips of one B-tile pair (32 columns) are grouped in chunks whose packed weights
    // (≈ 512 KiB) stay in L2 while every 32-row block of the activations passes over them.
    let pair_bytes = kblocks * 2 * B_TILE * 2 * if three { 2 } else { 1 };
    let mut per_chunk = ((512 << 10) / pair_bytes).clamp(1, pairs);
    let work = m * n * k * if three { 3 } else { 1 };
    let parallel = parallel && pairs > 1 && work > 1 << 21;
    if parallel {
        per_chunk = per_chunk.min(pairs.div_ceil(rayon::current_num_threads().max(1)));
    }
    let chunks = pairs.div_ceil(per_chunk);
    let out_ptr = crate::DisjointOut::new(out);
    let task = |c: usize| {
        let range = c * per_chunk..((c + 1) * per_chunk).min(pairs);
        // SAFETY: tiles are available (asserted); each chunk writes only its own columns
        // [32·first, 32·end) ∩ [0, n) of out, rows < m.
        unsafe { strips(rows, w, range, m, mp, n, out_ptr, three) };
    };
    if parallel {
        use rayon::prelude::*;
        (0..chunks).into_par_iter().for_each(task);
    } else {
        (0..chunks).for_each(task);
    }
}

/// Computes the 32-column strips `pairs` of the output for all rows.
///
/// # Safety
/// AMX must be available; `out` must hold `m × n` f32.
#[cfg(target_arch = "x86_64")]
#[allow(clippy::too_many_arguments)]
unsafe fn strips(
    rows: &PackedRows,
    w: &PackedWeights,
    pairs: std::ops::Range<usize>,
    m: usize,
    mp: usize,
    n: usize,
    out: crate::DisjointOut,
    three: bool,
) {
    use std::arch::asm;
    let cfg = TileConfig::eight_full_tiles();
    let kblocks = w.kp / TILE_K;
    let s64 = 64usize; // bytes per row of every packed tile
    let mut c = [0f32; 4 * TILE_M * TILE_N];
    // SAFETY (whole function): every tile load reads one packed 1 KiB tile inside the packed
    // buffers (m-tiles < mp / 16, k-blocks < kblocks, B tiles of this pair); stores go to the
    // local `c`, or straight to `out` for blocks that lie entirely inside it.
    unsafe {
        asm!("ldtilecfg [{0}]", in(reg) &cfg as *const TileConfig, options(nostack, readonly));
        for i0 in (0..mp).step_by(2 * TILE_M) {
            let a0 = (i0 / TILE_M) * kblocks * A_TILE;
            let a1 = a0 + kblocks * A_TILE;
            for p in pairs.clone() {
                let b0 = 2 * p * kblocks * B_TILE;
                let b1 = b0 + kblocks * B_TILE;
                asm!("tilezero tmm0", "tilezero tmm1", "tilezero tmm2", "tilezero tmm3", options(nostack, nomem));
                for kb in 0..kblocks {
                    let (ak, bk) = (kb * A_TILE, kb * B_TILE);
                    asm!(
                        "tileloadd tmm4, [{a} + {s}*1]",
                        "tileloadd tmm6, [{b} + {s}*1]",
                        "tdpbf16ps tmm0, tmm4, tmm6",
                        "tileloadd tmm7, [{b2} + {s}*1]",
                        "tdpbf16ps tmm1, tmm4, tmm7",
                        "tileloadd tmm5, [{a2} + {s}*1]",
                        "tdpbf16ps tmm2, tmm5, tmm6",
                        "tdpbf16ps tmm3, tmm5, tmm7",
                        a = in(reg) rows.hi.as_ptr().add(a0 + ak), a2 = in(reg) rows.hi.as_ptr().add(a1 + ak),
                        b = in(reg) w.hi.as_ptr().add(b0 + bk), b2 = in(reg) w.hi.as_ptr().add(b1 + bk),
                        s = in(reg) s64,
                        options(nostack, readonly)
                    );
                    if three {
                        let (al, bl) = (rows.lo.as_ref().unwrap(), w.lo.as_ref().unwrap());
                        asm!(
                            // hi(A) · lo(B): the hi A tiles are still loaded
                            "tileloadd tmm6, [{bl} + {s}*1]",
                            "tdpbf16ps tmm0, tmm4, tmm6",
                            "tileloadd tmm7, [{bl2} + {s}*1]",
                            "tdpbf16ps tmm1, tmm4, tmm7",
                            "tdpbf16ps tmm2, tmm5, tmm6",
                            "tdpbf16ps tmm3, tmm5, tmm7",
                            // lo(A) · hi(B)
                            "tileloadd tmm6, [{b} + {s}*1]",
                            "tileloadd tmm4, [{al} + {s}*1]",
                            "tdpbf16ps tmm0, tmm4, tmm6",
                            "tileloadd tmm7, [{b2} + {s}*1]",
                            "tdpbf16ps tmm1, tmm4, tmm7",
                            "tileloadd tmm5, [{al2} + {s}*1]",
                            "tdpbf16ps tmm2, tmm5, tmm6",
                            "tdpbf16ps tmm3, tmm5, tmm7",
                            al = in(reg) al.as_ptr().add(a0 + ak), al2 = in(reg) al.as_ptr().add(a1 + ak),
                            bl = in(reg) bl.as_ptr().add(b0 + bk), bl2 = in(reg) bl.as_ptr().add(b1 + bk),
                            b = in(reg) w.hi.as_ptr().add(b0 + bk), b2 = in(reg) w.hi.as_ptr().add(b1 + bk),
                            s = in(reg) s64,
                            options(nostack, readonly)
                        );
                    }
                }
                let j0 = 2 * p * TILE_N; // < n, and i0 < m: blocks exist only where output does
                if i0 + 2 * TILE_M <= m && j0 + 2 * TILE_N <= n {
                    store_block(out.get().add(i0 * n + j0), n);
                    continue;
                }
                // a block on the edge: through the local 32×32 buffer, then its valid part
                store_block(c.as_mut_ptr(), 2 * TILE_N);
                let cols = (n - j0).min(2 * TILE_N);
                for r in 0..(m - i0).min(2 * TILE_M) {
                    let src = c.as_ptr().add(r * 2 * TILE_N);
                    std::ptr::copy_nonoverlapping(src, out.get().add((i0 + r) * n + j0), cols);
                }
            }
        }
        asm!("tilerelease", options(nostack, nomem));
    }
}

/// Stores the four accumulator tiles as one 32×32 block at `base`, rows `ld` floats apart.
///
/// # Safety
/// AMX tiles must be configured, and `base` must address 32 rows of 32 writable f32.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn store_block(base: *mut f32, ld: usize) {
    // SAFETY: the caller guarantees the 32 × 32 destination.
    unsafe {
        std::arch::asm!(
            "tilestored [{c0} + {s}*1], tmm0",
            "tilestored [{c1} + {s}*1], tmm1",
            "tilestored [{c2} + {s}*1], tmm2",
            "tilestored [{c3} + {s}*1], tmm3",
            c0 = in(reg) base, c1 = in(reg) base.add(TILE_N),
            c2 = in(reg) base.add(TILE_M * ld), c3 = in(reg) base.add(TILE_M * ld + TILE_N),
            s = in(reg) ld * 4,
            options(nostack)
        );
    }
}

#[cfg(not(target_arch = "x86_64"))]
#[allow(clippy::too_many_arguments)]
unsafe fn strips(
    _: &PackedRows,
    _: &PackedWeights,
    _: std::ops::Range<usize>,
    _: usize,
    _: usize,
    _: usize,
    _: crate::DisjointOut,
    _: bool,
) {
    unreachable!("AMX is x86_64 only")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(x: &[f32], m: usize, k: usize, w: &[f32], n: usize) -> Vec<f64> {
        let mut y = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                y[i * n + j] = (0..k).map(|t| x[i * k + t] as f64 * w[j * k + t] as f64).sum();
            }
        }
        y
    }

    fn data(len: usize, seed: u64) -> Vec<f32> {
        let mut s = seed;
        (0..len)
            .map(|_| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn split_is_close() {
        for v in [1.0f32, -3.25, 1e-3, 12345.678, 0.1] {
            let (h, l) = split(v);
            let back = from_bf16(h) + from_bf16(l);
            assert!(((back - v) / v).abs() < 1e-5, "{v} -> {back}");
        }
    }

    #[test]
    fn amx_matches_f64_reference() {
        if !available() {
            eprintln!(
                "SKIPPED: amx_matches_f64_reference: AMX not available on this machine (hardware, so not an error under CI)"
            );
            return;
        }
        // odd shapes: padding in m, n and k
        for &(m, k, n) in &[(1, 3, 1), (37, 53, 29), (64, 384, 96), (70, 576, 200), (33, 1536, 48)] {
            let x = data(m * k, 1 + m as u64);
            let w = data(n * k, 7 + n as u64);
            let r = reference(&x, m, k, &w, n);
            let pw = PackedWeights::new(&w, n, k, true);
            for (prec, tol) in [(Precision::Bf16x3, 2e-5), (Precision::Bf16, 2e-2)] {
                for par in [false, true] {
                    let mut y = vec![f32::NAN; m * n];
                    matmul_t(&x, m, &pw, &mut y, prec, par);
                    let scale = (k as f64).sqrt() / 3.0; // typical |y| for uniform(-1,1) inputs
                    let worst = y.iter().zip(&r).map(|(a, b)| (*a as f64 - b).abs()).fold(0.0, f64::max);
                    assert!(worst / scale < tol, "{prec:?} m{m} k{k} n{n}: max err {worst} (scale {scale})");
                }
            }
        }
    }
}
