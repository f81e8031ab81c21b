//! A concurrent union-find: many threads union at once without locks.
//!
//! Parents are atomics. `find` halves paths with compare-and-swap; `union` links the root with
//! the larger index under the root with the smaller one, retrying if another thread moved
//! either root meanwhile. Linking by index can never form a cycle, and it makes the final root
//! of every component its smallest row index whatever the order of unions: the result is
//! deterministic under any thread schedule.

use std::sync::atomic::{AtomicU32, Ordering};

/// A union-find over `0..n` safe to share between threads.
#[derive(Debug)]
pub struct ConcurrentUnionFind {
    parent: Vec<AtomicU32>,
}

impl ConcurrentUnionFind {
    /// `n` singletons.
    pub fn new(n: usize) -> ConcurrentUnionFind {
        ConcurrentUnionFind { parent: (0..n as u32).map(AtomicU32::new).collect() }
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.parent.len()
    }

    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.parent.is_empty()
    }

    /// The current root of `x`.
    pub fn find(&self, mut x: u32) -> u32 {
        loop {
            let p = self.parent[x as usize].load(Ordering::Acquire);
            if p == x {
                return x;
            }
            let g = self.parent[p as usize].load(Ordering::Acquire);
            if g != p {
                // path halving: point x at its grandparent (only ever towards a smaller index)
                let _ = self.parent[x as usize].compare_exchange_weak(p, g, Ordering::AcqRel, Ordering::Relaxed);
            }
            x = g;
        }
    }

    /// True when `a` and `b` are in the same set (at this moment).
    pub fn same(&self, a: u32, b: u32) -> bool {
        self.find(a) == self.find(b)
    }

    /// Merges the sets of `a` and `b`.
    pub fn union(&self, a: u32, b: u32) {
        loop {
            let (ra, rb) = (self.find(a), self.find(b));
            if ra == rb {
                return;
            }
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            if self.parent[hi as usize].compare_exchange(hi, lo, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                return;
            }
        }
    }

    /// The final root of every element (its component's smallest index).
    pub fn roots(&self) -> Vec<u32> {
        (0..self.parent.len() as u32).map(|x| self.find(x)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rayon::prelude::*;

    #[test]
    fn parallel_unions_match_sequential_components() {
        let n = 20_000u32;
        // edges: i ~ i+7 within blocks of 100, plus a chain across blocks 0..5
        let mut edges: Vec<(u32, u32)> =
            (0..n).filter(|i| i % 100 < 93).map(|i| (i + 7, i)).filter(|&(a, _)| a < n).collect();
        edges.extend((0..5).map(|b| (b * 100, (b + 1) * 100)));
        let uf = ConcurrentUnionFind::new(n as usize);
        edges.par_iter().for_each(|&(a, b)| uf.union(a, b));
        let roots = uf.roots();
        // sequential reference
        let mut p: Vec<u32> = (0..n).collect();
        fn f(p: &mut [u32], x: u32) -> u32 {
            let mut r = x;
            while p[r as usize] != r {
                r = p[r as usize];
            }
            p[x as usize] = r;
            r
        }
        for &(a, b) in &edges {
            let (ra, rb) = (f(&mut p, a), f(&mut p, b));
            p[ra.max(rb) as usize] = ra.min(rb);
        }
        let reference: Vec<u32> = (0..n).map(|x| f(&mut p, x)).collect();
        assert_eq!(roots, reference);
        assert!(roots.iter().enumerate().all(|(i, &r)| r as usize <= i));
    }
}
