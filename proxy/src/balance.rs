//! Lock-free choice among weighted alternatives: smooth weighted round robin from a
//! precomputed schedule (exact proportions every cycle), or weighted random when the
//! schedule would be too long.

use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Longest precomputed schedule; beyond it weighted random is used.
const MAX_SCHEDULE: u64 = 4096;

/// How to pick one index among `n` weighted alternatives.
#[derive(Debug)]
pub(crate) enum Picker {
    /// Nothing to pick from.
    Empty,
    /// Exactly one alternative.
    Single(usize),
    /// Equal weights: plain round robin over these indices.
    RoundRobin(Box<[usize]>),
    /// Smooth weighted round robin, one cycle precomputed.
    Schedule(Box<[usize]>),
    /// Weighted random: cumulative weights with their index.
    Random {
        cumulative: Box<[(u64, usize)]>,
        total: u64,
    },
}

impl Picker {
    /// Builds a picker over `weights` (index = position); zero weights never win.
    /// `random` forces weighted random (the `RANDOM` balancing policy).
    pub(crate) fn new(weights: &[u32], random: bool) -> Self {
        let live: Vec<(usize, u64)> = weights
            .iter()
            .enumerate()
            .filter(|(_, w)| **w > 0)
            .map(|(i, w)| (i, u64::from(*w)))
            .collect();
        match live.as_slice() {
            [] => return Picker::Empty,
            [(i, _)] => return Picker::Single(*i),
            _ => {}
        }
        let total: u64 = live.iter().map(|(_, w)| w).sum();
        if random {
            return Self::random(&live, total);
        }
        let first = live[0].1;
        if live.iter().all(|(_, w)| *w == first) {
            return Picker::RoundRobin(live.iter().map(|(i, _)| *i).collect());
        }
        let g = live.iter().fold(0, |g, (_, w)| gcd(g, *w));
        let cycle = total / g;
        if cycle > MAX_SCHEDULE {
            return Self::random(&live, total);
        }
        // nginx's smooth weighted round robin, run for one cycle.
        let weights: Vec<i64> = live.iter().map(|(_, w)| (*w / g) as i64).collect();
        let sum: i64 = weights.iter().sum();
        let mut current = vec![0i64; weights.len()];
        let mut schedule = Vec::with_capacity(cycle as usize);
        for _ in 0..cycle {
            let mut best = 0;
            for (k, w) in weights.iter().enumerate() {
                current[k] += w;
                if current[k] > current[best] {
                    best = k;
                }
            }
            current[best] -= sum;
            schedule.push(live[best].0);
        }
        Picker::Schedule(schedule.into_boxed_slice())
    }

    fn random(live: &[(usize, u64)], total: u64) -> Self {
        let mut acc = 0;
        let cumulative = live
            .iter()
            .map(|(i, w)| {
                acc += w;
                (acc, *i)
            })
            .collect();
        Picker::Random { cumulative, total }
    }

    /// Picks an index; `counter` is the caller's shared round-robin position.
    pub(crate) fn pick(&self, counter: &AtomicUsize) -> Option<usize> {
        match self {
            Picker::Empty => None,
            Picker::Single(i) => Some(*i),
            Picker::RoundRobin(order) | Picker::Schedule(order) => {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                order.get(n % order.len()).copied()
            }
            Picker::Random { cumulative, total } => {
                // Lemire's multiply-shift: unbiased enough for weights far below 2^32.
                let r = ((u128::from(next_random()) * u128::from(*total)) >> 64) as u64;
                let at = cumulative.partition_point(|(acc, _)| *acc <= r);
                cumulative.get(at).map(|(_, i)| *i)
            }
        }
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

thread_local! {
    static RNG: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    // RandomState is seeded per thread from the OS; hashing a constant extracts it.
    RandomState::new().hash_one(0x9e37_79b9_7f4a_7c15_u64) | 1
}

/// xorshift64*: a cheap per-thread generator, plenty for load balancing.
pub(crate) fn next_random() -> u64 {
    RNG.with(|s| {
        let mut x = s.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        s.set(x);
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(p: &Picker, n: usize, slots: usize) -> Vec<usize> {
        let c = AtomicUsize::new(0);
        let mut out = vec![0; slots];
        for _ in 0..n {
            if let Some(i) = p.pick(&c) {
                out[i] += 1;
            }
        }
        out
    }

    #[test]
    fn schedule_is_exact_and_smooth() {
        let p = Picker::new(&[80, 20], false);
        assert_eq!(counts(&p, 1000, 2), vec![800, 200]);
        if let Picker::Schedule(s) = &p {
            assert_eq!(s.len(), 5);
            // never two of the light one in a row
            assert_eq!(s.iter().filter(|i| **i == 1).count(), 1);
        } else {
            panic!("expected a schedule");
        }
    }

    #[test]
    fn zero_weights_never_win() {
        let p = Picker::new(&[0, 5, 0], false);
        assert_eq!(counts(&p, 10, 3), vec![0, 10, 0]);
        assert!(matches!(Picker::new(&[0, 0], false), Picker::Empty));
        let p = Picker::new(&[0, 3, 3], false);
        assert_eq!(counts(&p, 10, 3), vec![0, 5, 5]);
    }

    #[test]
    fn random_respects_weights() {
        let p = Picker::new(&[1, 3], true);
        let c = counts(&p, 40_000, 2);
        assert!((9_000..11_000).contains(&c[0]), "{c:?}");
        let p = Picker::new(&[1, 10_000], false);
        assert!(matches!(p, Picker::Random { .. }));
        let c = counts(&p, 1000, 2);
        assert!(c[1] > 900, "{c:?}");
    }
}
