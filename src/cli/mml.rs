//! `fisher mml MODEL... DATA.csv [--prior EXPR] [--box NAME=LO..HI,...]`: the MML87 message
//! length of each candidate on the same data, with AIC and BIC, and the best candidate.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Read as _;

use serde::Serialize;

use super::format::Format;
use super::numeric::json_text;
use super::stats::{StatsError, named, prior, sig, table_text};
use crate::inference::{CsvOptions, Dataset, MessageLength, MmlPrior, message_length, read_csv};
use crate::info::FisherField;
use crate::model::Model;

/// The arguments of `fisher mml` after the models.
pub(super) struct MmlArgs<'a> {
    pub data: &'a str,
    pub prior: Option<&'a str>,
    pub bounds: Option<&'a str>,
    pub ignore_extra: bool,
}

#[derive(Serialize)]
struct CandidateJson {
    model: String,
    message_length: f64,
    aic: f64,
    bic: f64,
    params: usize,
    observations: usize,
    estimate: BTreeMap<String, f64>,
    mle: BTreeMap<String, f64>,
    max_log_likelihood: f64,
    assertion: f64,
    detail: f64,
    prior: String,
    log_normalizer: f64,
}

#[derive(Serialize)]
struct MmlJson {
    candidates: Vec<CandidateJson>,
    best: String,
    best_aic: String,
    best_bic: String,
    units: &'static str,
}

/// Parses `--box NAME=LO..HI,...` into ranges by name (names of any candidate).
fn parse_boxes(text: &str, models: &[Model]) -> Result<BTreeMap<String, (f64, f64)>, StatsError> {
    let mut out = BTreeMap::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let bad = |why: String| StatsError(format!("--box {text}: {why}"));
        let (name, range) = item
            .split_once('=')
            .ok_or_else(|| bad(format!("`{item}` is not NAME=LO..HI")))?;
        let name = name.trim();
        if !models
            .iter()
            .any(|m| m.params.iter().any(|p| p.name.as_str() == name))
        {
            return Err(bad(format!("`{name}` is a parameter of no candidate")));
        }
        let (lo, hi) = range
            .split_once("..")
            .ok_or_else(|| bad(format!("`{item}`: the range is not LO..HI")))?;
        let num = |s: &str| {
            s.trim()
                .parse::<f64>()
                .map_err(|_| bad(format!("`{item}`: `{}` is not a number", s.trim())))
        };
        if out.insert(name.to_string(), (num(lo)?, num(hi)?)).is_some() {
            return Err(bad(format!("`{name}` is given twice")));
        }
    }
    Ok(out)
}

/// The box of one candidate: every parameter's range, none, or an error for some.
fn box_of(
    model: &Model,
    boxes: &BTreeMap<String, (f64, f64)>,
) -> Result<Option<Vec<(f64, f64)>>, StatsError> {
    let ranges: Vec<Option<(f64, f64)>> = model
        .params
        .iter()
        .map(|p| boxes.get(p.name.as_str()).copied())
        .collect();
    if ranges.iter().all(Option::is_none) {
        return Ok(None);
    }
    let missing: Vec<String> = model
        .params
        .iter()
        .zip(&ranges)
        .filter(|(_, r)| r.is_none())
        .map(|(p, _)| format!("`{}`", p.name))
        .collect();
    if !missing.is_empty() {
        return Err(StatsError(format!(
            "candidate `{}`: --box gives ranges for some of its parameters but not for {}",
            model.name,
            missing.join(", ")
        )));
    }
    Ok(Some(ranges.into_iter().flatten().collect()))
}

/// Runs every candidate and renders the comparison.
pub(super) fn mml(
    models: &[Model],
    args: &MmlArgs<'_>,
    format: Format,
) -> Result<String, StatsError> {
    // Standard input is read once, for every candidate.
    let stdin_bytes = if args.data == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut buf)
            .map_err(|e| StatsError(format!("<stdin>: {e}")))?;
        Some(buf)
    } else {
        None
    };
    let boxes = match args.bounds {
        Some(text) => parse_boxes(text, models)?,
        None => BTreeMap::new(),
    };
    let mut results: Vec<MessageLength> = Vec::new();
    for model in models {
        let named_err = |e: StatsError| StatsError(format!("candidate `{}`: {e}", model.name));
        let dataset: Dataset = match &stdin_bytes {
            Some(bytes) => read_csv(
                model,
                bytes.as_slice(),
                &CsvOptions {
                    ignore_extra: args.ignore_extra,
                },
            )
            .map_err(|e| named_err(StatsError(format!("<stdin>: {e}"))))?,
            None => super::stats::data(model, args.data, args.ignore_extra).map_err(named_err)?,
        };
        let field = FisherField::new(model).map_err(|e| named_err(e.into()))?;
        let bounds = box_of(model, &boxes)?;
        let p = match args.prior {
            Some(text) => MmlPrior::Given {
                prior: Box::new(prior(model, text).map_err(named_err)?),
                bounds,
            },
            None => MmlPrior::Jeffreys { bounds },
        };
        results.push(message_length(&field, &dataset, &p).map_err(|e| named_err(e.into()))?);
    }
    let best_by = |key: &dyn Fn(&MessageLength) -> f64| {
        results
            .iter()
            .min_by(|a, b| key(a).total_cmp(&key(b)))
            .map(|r| r.model.clone())
            .unwrap_or_default()
    };
    let best = best_by(&|r| r.message_length);
    let best_aic = best_by(&|r| r.aic);
    let best_bic = best_by(&|r| r.bic);
    Ok(match format {
        Format::Json => json_text(&MmlJson {
            candidates: results
                .iter()
                .zip(models)
                .map(|(r, m)| CandidateJson {
                    model: r.model.clone(),
                    message_length: r.message_length,
                    aic: r.aic,
                    bic: r.bic,
                    params: r.params,
                    observations: r.observations,
                    estimate: named(m, &r.estimate),
                    mle: named(m, &r.mle),
                    max_log_likelihood: r.max_log_likelihood,
                    assertion: r.assertion,
                    detail: r.detail,
                    prior: r.prior.clone(),
                    log_normalizer: r.log_normalizer,
                })
                .collect(),
            best,
            best_aic,
            best_bic,
            units: "nats",
        }),
        Format::Text | Format::Latex => {
            let mut s = String::new();
            let n = results.first().map_or(0, |r| r.observations);
            let _ = writeln!(
                s,
                "MML87 message lengths (nats) of {} candidates on {n} observations",
                results.len()
            );
            let header = [
                "model",
                "d",
                "message length",
                "assertion",
                "detail",
                "AIC",
                "BIC",
                "prior",
            ];
            let mut table: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
            for r in &results {
                table.push(vec![
                    r.model.clone(),
                    r.params.to_string(),
                    sig(r.message_length, 10),
                    sig(r.assertion, 6),
                    sig(r.detail, 10),
                    sig(r.aic, 10),
                    sig(r.bic, 10),
                    r.prior.clone(),
                ]);
            }
            s.push('\n');
            s.push_str(&table_text(&table));
            let _ = writeln!(
                s,
                "\nbest by message length: {best} (AIC: {best_aic}, BIC: {best_bic})"
            );
            for (r, m) in results.iter().zip(models) {
                let _ = writeln!(
                    s,
                    "{}: MML87 estimate {}",
                    r.model,
                    crate::expr::assignments(m.params.iter().map(|p| p.name), &r.estimate)
                );
            }
            s
        }
    })
}
