//! `fisher sample MODEL DATA.csv [--prior EXPR] [--chains 4] [--draws 1000] [--seed S]
//! [--sampler rmhmc|hmc] [-o DRAWS.csv|.json]`: the posterior by Riemannian-manifold HMC
//! (or HMC), a summary table per parameter, the draws to a file. Progress bars per chain on
//! stderr when it is a terminal (not with `--quiet`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::IsTerminal as _;
use std::path::Path;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use super::format::Format;
use super::numeric::json_text;
use super::stats::{StatsError, data, prior, sig, table_text};
use crate::geometry::{Properness, properness};
use crate::inference::{
    Likelihood, PosteriorDraws, Prior, SampleOptions, Sampler, sample_posterior,
};
use crate::info::FisherField;
use crate::model::Model;

/// The arguments of `fisher sample`.
pub(super) struct SampleArgs<'a> {
    pub data: &'a str,
    pub prior: Option<&'a str>,
    pub chains: usize,
    pub draws: usize,
    pub warmup: usize,
    pub seed: u64,
    pub sampler: Sampler,
    pub output: Option<&'a Path>,
    pub quiet: bool,
    pub ignore_extra: bool,
}

#[derive(Serialize)]
struct SummaryJson {
    mean: f64,
    sd: f64,
    q05: f64,
    q50: f64,
    q95: f64,
    ess_bulk: f64,
    ess_tail: f64,
    rhat: f64,
}

#[derive(Serialize)]
struct ChainJson {
    step_size: f64,
    acceptance_rate: f64,
    divergences: usize,
    fixed_point_failures: usize,
}

#[derive(Serialize)]
struct SampleJson {
    model: String,
    sampler: &'static str,
    prior: String,
    summary: BTreeMap<String, SummaryJson>,
    draws: usize,
    warmup: usize,
    chains: usize,
    seed: u64,
    gradient_evaluations: u64,
    metric_evaluations: u64,
    divergences: usize,
    fixed_point_failures: usize,
    rejected_target_errors: usize,
    min_ess_bulk_per_gradient: f64,
    per_chain: Vec<ChainJson>,
    file: Option<String>,
}

/// The default prior: Jeffreys where it is proper on the domain and has a formula.
fn default_prior(field: &FisherField) -> Result<Prior, StatsError> {
    let name = &field.model().name;
    let ask = |why: String| {
        StatsError(format!(
            "{why}: give a prior with --prior 'EXPR' (the log density over the parameters, up to a constant)"
        ))
    };
    match properness(field).map_err(|e| ask(format!("the Jeffreys prior of `{name}`: {e}")))? {
        Properness::Proper { .. } => Prior::jeffreys(field).ok_or_else(|| {
            ask(format!(
                "the Jeffreys prior of `{name}` is proper but its Fisher matrix has no closed form, so the prior has no formula to differentiate"
            ))
        }),
        Properness::Improper { direction } => Err(ask(format!(
            "the Jeffreys prior of `{name}` is improper on the domain (no decay as {direction})"
        ))),
        Properness::Undecided { reason } => Err(ask(format!(
            "the properness of the Jeffreys prior of `{name}` is undecided ({reason})"
        ))),
    }
}

/// Runs the sampler and renders the report.
pub(super) fn sample(
    model: &Model,
    args: &SampleArgs<'_>,
    format: Format,
) -> Result<String, StatsError> {
    let dataset = data(model, args.data, args.ignore_extra)?;
    let field = FisherField::new(model)?;
    let lik = Likelihood::new(&field, &dataset)?;
    let prior = match args.prior {
        Some(text) => prior(model, text)?,
        None => default_prior(&field)?,
    };
    let options = SampleOptions {
        sampler: args.sampler,
        chains: args.chains,
        draws: args.draws,
        warmup: args.warmup,
        seed: args.seed,
        ..SampleOptions::default()
    };
    let multi =
        MultiProgress::with_draw_target(if args.quiet || !std::io::stderr().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        });
    let total = (args.warmup + args.draws) as u64;
    let bars: Vec<ProgressBar> = (0..args.chains.min(64))
        .map(|c| {
            let bar = multi.add(ProgressBar::new(total));
            if let Ok(style) =
                ProgressStyle::with_template("chain {prefix} [{elapsed}] {wide_bar} {pos}/{len}")
            {
                bar.set_style(style);
            }
            bar.set_prefix(c.to_string());
            bar
        })
        .collect();
    let progress = |chain: usize, done: usize| {
        if let Some(bar) = bars.get(chain) {
            bar.set_position(done as u64);
        }
    };
    let result = sample_posterior(&field, &lik, &dataset, &prior, &options, &progress);
    for bar in &bars {
        bar.finish_and_clear();
    }
    let draws = result.map_err(|e| StatsError(e.to_string()))?;
    let file = match args.output {
        Some(path) => Some(write_draws(model, &draws, path)?),
        None => None,
    };
    let names: Vec<String> = model.params.iter().map(|p| p.name.to_string()).collect();
    let ess_min = draws
        .summary
        .iter()
        .map(|s| s.ess_bulk)
        .fold(f64::INFINITY, f64::min);
    let per_gradient = ess_min / draws.samples.gradient_evaluations.max(1) as f64;
    let sampler = match args.sampler {
        Sampler::Rmhmc => "rmhmc",
        Sampler::Hmc => "hmc",
    };
    Ok(match format {
        Format::Json => json_text(&SampleJson {
            model: model.name.clone(),
            sampler,
            prior: prior.source().to_string(),
            summary: names
                .iter()
                .zip(&draws.summary)
                .map(|(n, s)| {
                    (
                        n.clone(),
                        SummaryJson {
                            mean: s.mean,
                            sd: s.sd,
                            q05: s.q05,
                            q50: s.q50,
                            q95: s.q95,
                            ess_bulk: s.ess_bulk,
                            ess_tail: s.ess_tail,
                            rhat: s.rhat,
                        },
                    )
                })
                .collect(),
            draws: args.draws,
            warmup: args.warmup,
            chains: args.chains,
            seed: args.seed,
            gradient_evaluations: draws.samples.gradient_evaluations,
            metric_evaluations: draws.samples.metric_evaluations,
            divergences: draws.samples.divergences,
            fixed_point_failures: draws.samples.fixed_point_failures,
            rejected_target_errors: draws.samples.target_errors,
            min_ess_bulk_per_gradient: per_gradient,
            per_chain: draws
                .samples
                .chains
                .iter()
                .map(|c| ChainJson {
                    step_size: c.step_size,
                    acceptance_rate: c.acceptance_rate,
                    divergences: c.divergences,
                    fixed_point_failures: c.fixed_point_failures,
                })
                .collect(),
            file,
        }),
        Format::Text | Format::Latex => {
            let mut s = String::new();
            let _ = writeln!(
                s,
                "model {}, {} observations; {sampler}, {} chains × ({} warm-up + {} draws), seed {}; prior {}",
                model.name,
                lik.len(),
                args.chains,
                args.warmup,
                args.draws,
                args.seed,
                prior.source()
            );
            let header = [
                "parameter",
                "mean",
                "sd",
                "5%",
                "50%",
                "95%",
                "ess_bulk",
                "rhat",
            ];
            let mut table: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
            for (n, x) in names.iter().zip(&draws.summary) {
                table.push(vec![
                    n.clone(),
                    sig(x.mean, 6),
                    sig(x.sd, 4),
                    sig(x.q05, 6),
                    sig(x.q50, 6),
                    sig(x.q95, 6),
                    format!("{:.0}", x.ess_bulk),
                    format!("{:.3}", x.rhat),
                ]);
            }
            s.push('\n');
            s.push_str(&table_text(&table));
            let _ = writeln!(
                s,
                "\n{} gradient evaluations, {} metric evaluations; {} divergences, {} fixed-point failures; min bulk ESS per gradient {}",
                draws.samples.gradient_evaluations,
                draws.samples.metric_evaluations,
                draws.samples.divergences,
                draws.samples.fixed_point_failures,
                sig(per_gradient, 3)
            );
            if draws.summary.iter().any(|x| x.rhat > 1.01) {
                let _ = writeln!(
                    s,
                    "warning: R-hat above 1.01: the chains have not mixed; run longer"
                );
            }
            if let Some(f) = &file {
                let _ = writeln!(s, "wrote {f}");
            }
            s
        }
    })
}

/// Writes the draws: CSV (`chain,draw,` then the parameters) or, for a `.json` path, one
/// object `{ "chain": [...], "draw": [...], name: [...] }`; atomically (a temporary file,
/// then a rename).
fn write_draws(model: &Model, draws: &PosteriorDraws, path: &Path) -> Result<String, StatsError> {
    let json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let mut text = String::new();
    if json {
        let mut cols: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        let (mut chain, mut index) = (Vec::new(), Vec::new());
        for (c, ch) in draws.theta.iter().enumerate() {
            for (i, t) in ch.iter().enumerate() {
                chain.push(c);
                index.push(i);
                for (p, v) in model.params.iter().zip(t) {
                    cols.entry(p.name.to_string()).or_default().push(*v);
                }
            }
        }
        #[derive(Serialize)]
        struct Draws {
            chain: Vec<usize>,
            draw: Vec<usize>,
            #[serde(flatten)]
            params: BTreeMap<String, Vec<f64>>,
        }
        text = json_text(&Draws {
            chain,
            draw: index,
            params: cols,
        });
    } else {
        let names: Vec<&str> = model.params.iter().map(|p| p.name.as_str()).collect();
        let _ = writeln!(text, "chain,draw,{}", names.join(","));
        for (c, ch) in draws.theta.iter().enumerate() {
            for (i, t) in ch.iter().enumerate() {
                let vals: Vec<String> = t.iter().map(|v| format!("{v:?}")).collect();
                let _ = writeln!(text, "{c},{i},{}", vals.join(","));
            }
        }
    }
    let tmp = path.with_extension("tmp-fisher");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            StatsError(format!("cannot write {}: {e}", path.display()))
        })?;
    Ok(path.display().to_string())
}
