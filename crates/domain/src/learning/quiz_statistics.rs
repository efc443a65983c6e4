//! Item analysis, as Moodle's quiz statistics define it, so that a Lead sees which questions
//! (or which training) need work:
//!
//! - **facility index**: the mean share of the mark earned, in percent;
//! - **discrimination index**: the correlation, in percent, between the marks earned on the
//!   question and those earned on the rest of the attempt;
//! - **discriminative efficiency**: that covariance as a percentage of the largest it could be
//!   with the same marks (both lists sorted the same way).

/// One graded attempt, as seen from one question.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ItemScore {
    /// The mark earned on the question, and its maximum.
    pub mark: f64,
    pub max_mark: f64,
    /// The mark earned on the whole attempt, this question included.
    pub attempt_mark: f64,
}

/// A question's figures over a set of attempts; `None` where the figure is not defined
/// (no attempts, or every attempt alike).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ItemStatistics {
    pub attempts: usize,
    pub facility: Option<f64>,
    pub discrimination_index: Option<f64>,
    pub discriminative_efficiency: Option<f64>,
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// Covariance with `n - 1`; the figures are ratios of these, so the divisor cancels.
fn covariance(x: &[f64], y: &[f64]) -> f64 {
    let (mx, my) = (mean(x), mean(y));
    let s: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    s / (x.len() as f64 - 1.0)
}

/// The figures of one question over `scores`.
pub fn item_statistics(scores: &[ItemScore]) -> ItemStatistics {
    let n = scores.len();
    if n == 0 {
        return ItemStatistics::default();
    }
    let shares: Vec<f64> = scores
        .iter()
        .map(|s| {
            if s.max_mark > 0.0 {
                s.mark / s.max_mark
            } else {
                0.0
            }
        })
        .collect();
    let facility = Some(100.0 * mean(&shares));
    if n < 2 {
        return ItemStatistics {
            attempts: n,
            facility,
            ..ItemStatistics::default()
        };
    }
    let x: Vec<f64> = scores.iter().map(|s| s.mark).collect();
    let rest: Vec<f64> = scores.iter().map(|s| s.attempt_mark - s.mark).collect();
    let c = covariance(&x, &rest);
    let (vx, vr) = (covariance(&x, &x), covariance(&rest, &rest));
    let tiny = 1e-12;
    let discrimination_index = (vx > tiny && vr > tiny).then(|| 100.0 * c / (vx * vr).sqrt());
    let mut xs = x.clone();
    let mut rs = rest.clone();
    xs.sort_by(f64::total_cmp);
    rs.sort_by(f64::total_cmp);
    let c_max = covariance(&xs, &rs);
    let discriminative_efficiency = (c_max > tiny).then(|| 100.0 * c / c_max);
    ItemStatistics {
        attempts: n,
        facility,
        discrimination_index,
        discriminative_efficiency,
    }
}

/// The median of `values` (the mean of the middle two for an even count).
pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let m = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[m - 1] + values[m]) / 2.0
    } else {
        values[m]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Option<f64>, b: f64) {
        let a = a.expect("defined");
        assert!((a - b).abs() < 0.01, "{a} is not {b}");
    }

    /// Worked by hand. Marks on the question x = 1, 0.5, 0, 1 (of 1); on the rest of the
    /// attempt r = 3, 1, 2, 2. Means 0.625 and 2. Deviations of x: 0.375, -0.125, -0.625,
    /// 0.375; of r: 1, -1, 0, 0. Sum of products 0.5, sum of squares 0.6875 and 2, so the
    /// index is 0.5 / sqrt(1.375) = 42.64%. Sorted, x = 0, 0.5, 1, 1 and r = 1, 2, 2, 3: the
    /// sum of products is 0.625 + 0 + 0 + 0.375 = 1, so the efficiency is 0.5 / 1 = 50%. The
    /// facility is 2.5 / 4 = 62.5%.
    #[test]
    fn figures_match_a_hand_worked_example() {
        let s: Vec<ItemScore> = [(1.0, 3.0), (0.5, 1.0), (0.0, 2.0), (1.0, 2.0)]
            .into_iter()
            .map(|(mark, rest)| ItemScore {
                mark,
                max_mark: 1.0,
                attempt_mark: mark + rest,
            })
            .collect();
        let st = item_statistics(&s);
        assert_eq!(st.attempts, 4);
        close(st.facility, 62.5);
        close(st.discrimination_index, 42.64);
        close(st.discriminative_efficiency, 50.0);
    }

    #[test]
    fn figures_not_defined_are_none() {
        assert_eq!(item_statistics(&[]), ItemStatistics::default());
        // Everyone right: no spread on the question, nothing to correlate.
        let same: Vec<ItemScore> = (0..5)
            .map(|i| ItemScore {
                mark: 1.0,
                max_mark: 1.0,
                attempt_mark: 1.0 + f64::from(i),
            })
            .collect();
        let st = item_statistics(&same);
        close(st.facility, 100.0);
        assert_eq!(st.discrimination_index, None);
        assert_eq!(st.discriminative_efficiency, None);
        // A question that separates perfectly is 100% on both.
        let perfect: Vec<ItemScore> = [(0.0, 1.0), (1.0, 3.0)]
            .into_iter()
            .map(|(mark, rest)| ItemScore {
                mark,
                max_mark: 1.0,
                attempt_mark: mark + rest,
            })
            .collect();
        let st = item_statistics(&perfect);
        close(st.discrimination_index, 100.0);
        close(st.discriminative_efficiency, 100.0);
    }

    #[test]
    fn medians() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), Some(2.5));
    }
}
