//! `fisher fit MODEL DATA.csv [--level 0.95] [--from P]`: maximum likelihood by Fisher
//! scoring, with standard errors from the expected and the observed information and Wald
//! intervals.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::format::Format;
use super::numeric::{json_text, rows};
use super::stats::{StatsError, data, named, sig, table_text};
use crate::inference::{Fit, FitOptions, Likelihood, fit_with};
use crate::info::FisherField;
use crate::model::{Model, Point};

/// The arguments of `fisher fit`.
pub(super) struct FitArgs<'a> {
    pub data: &'a str,
    pub level: f64,
    pub from: Option<&'a Point>,
    pub ignore_extra: bool,
}

#[derive(Serialize)]
struct StdErrors {
    expected: BTreeMap<String, f64>,
    observed: Option<BTreeMap<String, f64>>,
}

#[derive(Serialize)]
struct StepJson {
    rule: &'static str,
    count: usize,
}

/// The warm-up on a subsample ([`crate::WarmStart`]).
#[derive(Serialize)]
struct WarmJson {
    every: usize,
    rows: usize,
    iterations: usize,
}

#[derive(Serialize)]
struct FitJson {
    model: String,
    observations: usize,
    estimate: BTreeMap<String, f64>,
    std_error: StdErrors,
    observed_note: Option<String>,
    level: f64,
    intervals: BTreeMap<String, [f64; 2]>,
    converged: bool,
    iterations: usize,
    warm_start: Option<WarmJson>,
    score_norm: f64,
    standardized_score: f64,
    steps: Vec<StepJson>,
    notes: Vec<String>,
    route: &'static str,
    statistics: Option<BTreeMap<String, f64>>,
    log_likelihood: f64,
    fisher: Vec<Vec<f64>>,
    observed_information: Vec<Vec<f64>>,
    metric: &'static str,
}

/// Runs the fit and renders it.
pub(super) fn fit(model: &Model, args: &FitArgs<'_>, format: Format) -> Result<String, StatsError> {
    let dataset = data(model, args.data, args.ignore_extra)?;
    let field = FisherField::new(model)?;
    let lik = Likelihood::new(&field, &dataset)?;
    let options = FitOptions {
        level: args.level,
        start: args.from.map(|p| p.values()),
        ..FitOptions::default()
    };
    let f = fit_with(&field, &lik, &dataset, &options)?;
    let statistics = lik.statistics().map(|s| {
        s.into_iter()
            .map(|(t, v)| (crate::expr::text(&t).to_string(), v))
            .collect::<BTreeMap<_, _>>()
    });
    Ok(match format {
        Format::Json => json_text(&to_json(model, &f, field.method().as_str(), statistics)),
        Format::Text | Format::Latex => text(model, args.data, &f, statistics.as_ref(), format),
    })
}

fn to_json(
    model: &Model,
    f: &Fit,
    metric: &'static str,
    statistics: Option<BTreeMap<String, f64>>,
) -> FitJson {
    FitJson {
        model: model.name.clone(),
        observations: f.observations,
        estimate: named(model, &f.estimate),
        std_error: StdErrors {
            expected: named(model, &f.expected_se),
            observed: f.observed_se.as_ref().ok().map(|s| named(model, s)),
        },
        observed_note: f.observed_se.as_ref().err().cloned(),
        level: f.level,
        intervals: model
            .params
            .iter()
            .zip(&f.intervals)
            .map(|(p, (lo, hi))| (p.name.to_string(), [*lo, *hi]))
            .collect(),
        converged: true,
        iterations: f.iterations,
        warm_start: f.warm_start.map(|w| WarmJson {
            every: w.every,
            rows: w.rows,
            iterations: w.iterations,
        }),
        score_norm: f.score_norm,
        standardized_score: f.standardized_score,
        steps: f
            .steps
            .iter()
            .map(|(r, c)| StepJson {
                rule: r.as_str(),
                count: *c,
            })
            .collect(),
        notes: f.notes.clone(),
        route: f.route.as_str(),
        statistics,
        log_likelihood: f.log_likelihood,
        fisher: rows(&f.fisher),
        observed_information: rows(&f.observed_information),
        metric,
    }
}

fn text(
    model: &Model,
    source: &str,
    f: &Fit,
    statistics: Option<&BTreeMap<String, f64>>,
    format: Format,
) -> String {
    let mut s = String::new();
    let source = if source == "-" { "<stdin>" } else { source };
    let _ = writeln!(
        s,
        "model {}, {} observations from {source}",
        model.name, f.observations
    );
    match statistics {
        Some(stats) => {
            let list: Vec<String> = stats
                .iter()
                .map(|(t, v)| format!("Σ {t} = {}", sig(*v, 10)))
                .collect();
            let _ = writeln!(
                s,
                "log-likelihood by sufficient statistics: {}",
                list.join(", ")
            );
        }
        None => {
            let _ = writeln!(s, "log-likelihood over the data in batches");
        }
    }
    let steps: Vec<String> = f
        .steps
        .iter()
        .map(|(r, c)| format!("{} ×{c}", r.as_str()))
        .collect();
    let _ = writeln!(
        s,
        "converged in {} iterations ({}); |∇ℓ| = {}, standardized score {}",
        f.iterations,
        if steps.is_empty() {
            "at the start".to_string()
        } else {
            steps.join(", ")
        },
        sig(f.score_norm, 3),
        sig(f.standardized_score, 3)
    );
    if let Some(w) = f.warm_start {
        let _ = writeln!(
            s,
            "started from the estimate on one row in {} ({} rows, {} iterations)",
            w.every, w.rows, w.iterations
        );
    }
    for note in &f.notes {
        let _ = writeln!(s, "note: {note}");
    }
    let _ = writeln!(s, "log-likelihood {}", sig(f.log_likelihood, 12));
    let level = format!("{}% Wald interval", crate::render::number(100.0 * f.level));
    let header = [
        "parameter",
        "estimate",
        "se (expected)",
        "se (observed)",
        level.as_str(),
    ];
    let mut table: Vec<[String; 5]> = vec![header.map(str::to_string)];
    for (j, p) in model.params.iter().enumerate() {
        let observed = f
            .observed_se
            .as_ref()
            .map_or_else(|_| "—".to_string(), |o| sig(o[j], 6));
        let (lo, hi) = f.intervals[j];
        table.push([
            p.name.to_string(),
            sig(f.estimate[j], 10),
            sig(f.expected_se[j], 6),
            observed,
            format!("[{}, {}]", sig(lo, 6), sig(hi, 6)),
        ]);
    }
    s.push('\n');
    s.push_str(&table_text(&table));
    if let Err(why) = &f.observed_se {
        let _ = writeln!(s, "\nno observed-information standard errors: {why}");
    }
    if format == Format::Latex {
        // The estimates as a LaTeX line: \hat\mu = 1.23 \pm 0.05, …
        let items: Vec<String> = model
            .params
            .iter()
            .enumerate()
            .map(|(j, p)| {
                format!(
                    "\\hat{{{}}} = {} \\pm {}",
                    crate::render::latex_name(p.name.as_str()),
                    sig(f.estimate[j], 6),
                    sig(f.expected_se[j], 3)
                )
            })
            .collect();
        return items.join(",\\quad ") + "\n";
    }
    s
}
