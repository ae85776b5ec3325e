//! Quantiles from cumulative histogram buckets, as Prometheus's
//! `histogram_quantile` computes them: linear interpolation inside the bucket
//! that holds the rank, the lowest bucket starting at 0, and the upper bound of
//! the highest finite bucket when the rank falls in `+Inf`.

/// Cumulative bucket counts by upper bound (`le`), any order, `+Inf` included.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Buckets(pub Vec<(f64, f64)>);

impl Buckets {
    /// Adds `count` to the bucket with upper bound `le` (creating it).
    pub fn add(&mut self, le: f64, count: f64) {
        match self.0.iter_mut().find(|(b, _)| *b == le) {
            Some((_, c)) => *c += count,
            None => self.0.push((le, count)),
        }
    }

    /// `self - earlier`, bucket by bucket (a bucket missing earlier counts 0).
    /// A smaller count than before is a counter reset (the proxy restarted):
    /// then everything counted now is new, as `rate` takes it.
    pub fn delta(&self, earlier: Option<&Buckets>) -> Buckets {
        let earlier = earlier.filter(|e| e.count() <= self.count());
        Buckets(
            self.0
                .iter()
                .map(|&(le, now)| {
                    let before = earlier
                        .and_then(|e| e.0.iter().find(|(b, _)| *b == le))
                        .map_or(0.0, |(_, c)| *c);
                    (le, (now - before).max(0.0))
                })
                .collect(),
        )
    }

    /// The observations counted (the `+Inf` bucket, else the largest).
    pub fn count(&self) -> f64 {
        self.0
            .iter()
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map_or(0.0, |(_, c)| *c)
    }

    /// The `q` quantile (0..=1), or `None` without observations.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let mut b = self.0.clone();
        b.sort_by(|x, y| x.0.total_cmp(&y.0));
        // Cumulative counts must not fall (scrapes are not atomic across buckets).
        for i in 1..b.len() {
            if b[i].1 < b[i - 1].1 {
                b[i].1 = b[i - 1].1;
            }
        }
        let &(last_le, total) = b.last()?;
        if total <= 0.0 || !(0.0..=1.0).contains(&q) || last_le != f64::INFINITY || b.len() < 2 {
            return None;
        }
        let rank = q * total;
        let i = b.iter().position(|&(_, c)| c >= rank)?;
        if i == b.len() - 1 {
            return Some(b[b.len() - 2].0);
        }
        let (upper, count) = b[i];
        let (lower, below) = if i == 0 {
            (0.0_f64.min(upper), 0.0)
        } else {
            b[i - 1]
        };
        if i == 0 && upper <= 0.0 {
            return Some(upper);
        }
        let in_bucket = count - below;
        if in_bucket <= 0.0 {
            return Some(upper);
        }
        Some(lower + (upper - lower) * (rank - below) / in_bucket)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envoy(counts: &[f64]) -> Buckets {
        let les = [0.5, 1.0, 5.0, 10.0, 25.0, 50.0, 100.0, f64::INFINITY];
        Buckets(les.iter().copied().zip(counts.iter().copied()).collect())
    }

    #[test]
    fn interpolates_like_histogram_quantile() {
        // 100 observations: 10 under 0.5 ms, 40 more under 1 ms, 50 more under 5 ms.
        let b = envoy(&[10.0, 50.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0]);
        // p50: rank 50 is the top of the (0.5, 1] bucket.
        assert_eq!(b.quantile(0.5), Some(1.0));
        // p99: rank 99 is 49/50 into (1, 5].
        let p99 = b.quantile(0.99).expect("p99");
        assert!((p99 - (1.0 + 4.0 * 49.0 / 50.0)).abs() < 1e-9, "{p99}");
        // p5: rank 5, half of the first bucket, which starts at 0.
        assert_eq!(b.quantile(0.05), Some(0.25));
    }

    #[test]
    fn rank_in_inf_bucket_gives_the_highest_finite_bound() {
        let b = envoy(&[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 10.0]);
        assert_eq!(b.quantile(0.99), Some(100.0));
    }

    #[test]
    fn no_observations_no_quantile() {
        assert_eq!(envoy(&[0.0; 8]).quantile(0.5), None);
        assert_eq!(Buckets::default().quantile(0.5), None);
    }

    #[test]
    fn deltas_of_two_scrapes_and_counter_resets() {
        let before = envoy(&[1.0, 2.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0]);
        let now = envoy(&[1.0, 2.0, 13.0, 13.0, 13.0, 13.0, 13.0, 13.0]);
        let d = now.delta(Some(&before));
        assert_eq!(d.count(), 10.0);
        // All ten new observations are in (1, 5]: the median is its middle.
        assert_eq!(d.quantile(0.5), Some(3.0));
        // A restarted proxy: counts fell, the new ones are the delta.
        let reset = envoy(&[0.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0]);
        assert_eq!(reset.delta(Some(&now)).count(), 4.0);
        assert_eq!(now.delta(None).count(), 13.0);
    }
}
