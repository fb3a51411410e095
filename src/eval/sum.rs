//! Compensated summation for sums over many rows: Knuth's branch-free two-sum in four
//! interleaved accumulators, so that the additions do not wait on each other; the error is
//! about that of one compensated sum, `ε Σ|x|` at most, whatever the number of terms.

/// A running compensated sum: four lanes of (sum, correction), the `i`-th term added to lane
/// `i mod 4` when terms come in slices whose lengths are multiples of four (as the batches of
/// [`Compiled`](super::Compiled) do), so that the result depends only on the terms and their
/// order, never on how they were split into slices of such lengths.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CompensatedSum {
    sum: [f64; 4],
    c: [f64; 4],
}

#[inline(always)]
fn two_sum(s: &mut f64, c: &mut f64, x: f64) {
    let t = *s + x;
    let z = t - *s;
    *c += (*s - (t - z)) + (x - z);
    *s = t;
}

impl CompensatedSum {
    /// Adds every term of `xs`; a remainder past the last multiple of four goes to the first
    /// lanes.
    #[inline]
    pub(crate) fn add_slice(&mut self, xs: &[f64]) {
        let mut quads = xs.chunks_exact(4);
        for q in &mut quads {
            for ((s, c), x) in self.sum.iter_mut().zip(&mut self.c).zip(q) {
                two_sum(s, c, *x);
            }
        }
        for (i, x) in quads.remainder().iter().enumerate() {
            two_sum(&mut self.sum[i], &mut self.c[i], *x);
        }
    }

    /// Adds one term (to the first lane).
    pub(crate) fn add(&mut self, x: f64) {
        two_sum(&mut self.sum[0], &mut self.c[0], x);
    }

    /// Adds another sum's total, lane by lane, sums before corrections.
    pub(crate) fn merge(&mut self, other: &CompensatedSum) {
        for i in 0..4 {
            two_sum(&mut self.sum[i], &mut self.c[i], other.sum[i]);
        }
        for i in 0..4 {
            two_sum(&mut self.sum[i], &mut self.c[i], other.c[i]);
        }
    }

    /// The total: the lanes merged with their corrections.
    pub(crate) fn total(&self) -> f64 {
        let (mut s, mut c) = (0.0, 0.0);
        for i in 0..4 {
            two_sum(&mut s, &mut c, self.sum[i]);
        }
        for i in 0..4 {
            two_sum(&mut s, &mut c, self.c[i]);
        }
        s + c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compensated_sums_keep_the_small_terms() {
        // 1 + 1e100 − 1e100 + …: plain summation loses every 1.
        let mut xs = Vec::new();
        for _ in 0..1001 {
            xs.extend([1.0, 1e100, -1e100]);
        }
        let mut s = CompensatedSum::default();
        s.add_slice(&xs);
        assert_eq!(s.total(), 1001.0);
        let plain: f64 = xs.iter().sum();
        assert_ne!(plain, 1001.0);
        // Many terms of growing size, exactly representable partial sums aside.
        let ys: Vec<f64> = (1..=10_007).map(f64::from).collect();
        let mut s = CompensatedSum::default();
        s.add_slice(&ys);
        assert_eq!(s.total(), 10_007.0 * 10_008.0 / 2.0);
        assert_eq!(CompensatedSum::default().total(), 0.0);
    }

    #[test]
    fn the_split_into_slices_of_four_does_not_change_the_sum() {
        let xs: Vec<f64> = (0..1000)
            .map(|i| (f64::from(i) * 0.37).sin() * 1e3)
            .collect();
        let mut whole = CompensatedSum::default();
        whole.add_slice(&xs);
        let mut parts = CompensatedSum::default();
        for chunk in xs.chunks(64) {
            parts.add_slice(chunk);
        }
        assert_eq!(whole.total().to_bits(), parts.total().to_bits());
        // Merged partial sums agree with the whole to rounding of the total.
        let (mut a, mut b) = (CompensatedSum::default(), CompensatedSum::default());
        a.add_slice(&xs[..512]);
        b.add_slice(&xs[512..]);
        a.merge(&b);
        assert!((a.total() - whole.total()).abs() <= 1e-12 * whole.total().abs());
    }
}
