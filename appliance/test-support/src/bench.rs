//! What the benchmarks share: percentiles of timed samples, printed.

use std::time::Duration;

/// The nearest-rank percentile `p` (0–100) of `sorted` samples.
///
/// # Panics
/// When `sorted` is empty.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Sorts `samples` and returns their p50, p99 and maximum.
pub fn summary(samples: &mut [Duration]) -> (Duration, Duration, Duration) {
    samples.sort();
    (
        percentile(samples, 50.0),
        percentile(samples, 99.0),
        samples.last().copied().unwrap_or_default(),
    )
}

/// Prints one line of figures for `samples` under `name`; returns the
/// p50.
pub fn report(name: &str, samples: &mut [Duration]) -> Duration {
    let (p50, p99, max) = summary(samples);
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{name:<56} n={:<3} p50={:>7.1}ms p99={:>7.1}ms max={:>7.1}ms",
        samples.len(),
        ms(p50),
        ms(p99),
        ms(max)
    );
    p50
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let ms = |n| Duration::from_millis(n);
        let sorted: Vec<Duration> = (1..=100).map(ms).collect();
        assert_eq!(percentile(&sorted, 50.0), ms(50));
        assert_eq!(percentile(&sorted, 99.0), ms(99));
        assert_eq!(percentile(&sorted, 100.0), ms(100));
        assert_eq!(percentile(&[ms(7)], 50.0), ms(7));
        let mut shuffled = vec![ms(3), ms(1), ms(2)];
        assert_eq!(summary(&mut shuffled), (ms(2), ms(3), ms(3)));
    }
}
