//! The `fisher` commands. The only code that prints; errors become code frames on stderr and
//! a non-zero exit.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use super::diagnostic::render_error;
use crate::info::{self, Derivation};
use crate::model::{DataVar, Domain, Model, Param, Support};
use crate::render::{self, latex, latex_matrix, latex_name};

/// Exact Fisher geometry from a log-density.
#[derive(Debug, Parser)]
#[command(name = "fisher", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Output format of every command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Plain text in the model language.
    Text,
    /// LaTeX, one formula per line.
    Latex,
    /// One JSON object on stdout.
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the log-density, score and Hessian of a model.
    Derive {
        /// A `.model` file or the name of a built-in model (see `fisher list`).
        model: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// The Fisher matrix at a point, its three forms and their discrepancy.
    Eval {
        /// A `.model` file or the name of a built-in model.
        model: String,
        /// The point: `name=value,name=value`, every parameter.
        #[arg(long)]
        at: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// The KL divergence `D(p‖q)` between two members of the family.
    Kl {
        /// A `.model` file or the name of a built-in model.
        model: String,
        /// The first argument: `name=value,...`.
        #[arg(long)]
        p: String,
        /// The second argument: `name=value,...`.
        #[arg(long)]
        q: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Check the identities of Fisher information at random points.
    Check {
        /// A `.model` file or the name of a built-in model.
        model: String,
        /// Number of random points.
        #[arg(long, default_value_t = 4)]
        points: usize,
        /// Seed of the random points.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// List the built-in models.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

/// What a failed command prints.
enum Failure {
    /// An error message, for stderr.
    Message(String),
    /// A complete report that says something failed (`fisher check`), for stdout.
    Report(String),
}

/// Parses a command-line point against the model's parameters.
fn point(model: &Model, flag: &str, text: &str) -> Result<Vec<(egg::Symbol, f64)>, Failure> {
    model
        .parse_point(text)
        .map_err(|e| Failure::Message(format!("error: {flag} {text}: {e}\n")))
}

/// Runs the command line with the process arguments.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let color = std::env::var_os("NO_COLOR").is_none()
        && std::io::IsTerminal::is_terminal(&std::io::stderr());
    match run(&cli, color) {
        Ok(out) => {
            let mut stdout = std::io::stdout().lock();
            if stdout
                .write_all(out.as_bytes())
                .and_then(|()| stdout.flush())
                .is_err()
            {
                return ExitCode::from(1);
            }
            ExitCode::SUCCESS
        }
        Err(Failure::Message(msg)) => {
            let mut stderr = std::io::stderr().lock();
            let _ = stderr.write_all(msg.as_bytes());
            ExitCode::from(1)
        }
        Err(Failure::Report(report)) => {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout
                .write_all(report.as_bytes())
                .and_then(|()| stdout.flush());
            ExitCode::from(1)
        }
    }
}

/// Runs one command and returns what it prints on stdout, or the error text.
fn run(cli: &Cli, color: bool) -> Result<String, Failure> {
    match &cli.command {
        Command::Derive { model, format } => {
            let model = load(model, color)?;
            let d = info::derivation(&model);
            Ok(match format {
                Format::Text => derive_text(&model, &d),
                Format::Latex => derive_latex(&d),
                Format::Json => json_line(&render::json::derive(&model, &d)),
            })
        }
        Command::List { format } => Ok(list(*format)),
        Command::Eval { model, at, format } => {
            let model = load(model, color)?;
            let at = point(&model, "--at", at)?;
            super::progress::run(|| super::numeric::eval(&model, &at, *format))
                .map_err(Failure::Message)
        }
        Command::Kl {
            model,
            p,
            q,
            format,
        } => {
            let model = load(model, color)?;
            let p = point(&model, "--p", p)?;
            let q = point(&model, "--q", q)?;
            super::progress::run(|| super::numeric::kl(&model, &p, &q, *format))
                .map_err(Failure::Message)
        }
        Command::Check {
            model,
            points,
            seed,
            format,
        } => {
            let model = load(model, color)?;
            match super::progress::run(|| super::numeric::check(&model, *points, *seed, *format))
                .map_err(Failure::Message)?
            {
                (report, true) => Ok(report),
                (report, false) => Err(Failure::Report(report)),
            }
        }
    }
}

pub(super) fn json_line(v: &serde_json::Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_else(|_| "{}".into());
    s.push('\n');
    s
}

/// Loads a model from a path, or a built-in by name.
fn load(spec: &str, color: bool) -> Result<Model, Failure> {
    let path = Path::new(spec);
    if path.is_file() {
        let source = std::fs::read_to_string(path)
            .map_err(|e| Failure::Message(format!("error: cannot read `{spec}`: {e}\n")))?;
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("model");
        return Model::parse(&source, stem).map_err(|e| {
            Failure::Message(render_error(
                &source,
                spec,
                &e.to_string(),
                e.span.clone(),
                color,
            ))
        });
    }
    if let Some((_, source)) = Model::builtins().into_iter().find(|(n, _)| *n == spec) {
        let file = format!("{spec}.model");
        return Model::parse(source, spec).map_err(|e| {
            Failure::Message(render_error(
                source,
                &file,
                &e.to_string(),
                e.span.clone(),
                color,
            ))
        });
    }
    let names: Vec<&str> = Model::builtins().into_iter().map(|(n, _)| n).collect();
    Err(Failure::Message(format!(
        "error: `{spec}` is neither a model file nor a built-in model\n  built-in models: {}\n",
        names.join(", ")
    )))
}

fn domain_name(d: Domain) -> String {
    d.to_string()
}

fn support_name(s: Support) -> String {
    match s {
        Support::Real => "real".into(),
        Support::Positive => "positive".into(),
        Support::Unit => "unit".into(),
        Support::Binary => "binary".into(),
        Support::Count => "count".into(),
        Support::Int(lo, hi) => format!("int[{lo}, {hi}]"),
    }
}

fn params_line(ps: &[Param]) -> String {
    ps.iter()
        .map(|p| format!("{} : {}", p.name, domain_name(p.domain)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn data_line(ds: &[DataVar]) -> String {
    ds.iter()
        .map(|d| format!("{} : {}", d.name, support_name(d.support)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The text report of `fisher derive`.
fn derive_text(model: &Model, derivation: &Derivation) -> String {
    let d = &derivation.derivatives;
    let mut s = String::new();
    let _ = writeln!(s, "model {}", model.name);
    let _ = writeln!(s, "params  {}", params_line(&model.params));
    let _ = writeln!(s, "data    {}", data_line(&model.data));
    let _ = writeln!(s, "\nlog-density\n  logp = {}", d.logp);
    let _ = writeln!(s, "\nscore");
    let width = d.params.iter().map(|p| p.as_str().len()).max().unwrap_or(0);
    for (p, e) in d.params.iter().zip(&d.score) {
        let _ = writeln!(s, "  d/d{:<width$} = {e}", p.as_str());
    }
    let _ = writeln!(s, "\nhessian");
    let pairs = d.params.len() * (d.params.len() + 1) / 2;
    let mut rows = Vec::with_capacity(pairs);
    for i in 0..d.params.len() {
        for j in i..d.params.len() {
            rows.push((
                format!("[{}, {}]", d.params[i], d.params[j]),
                &d.hessian[i][j],
            ));
        }
    }
    let w = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, e) in rows {
        let _ = writeln!(s, "  {k:<w$} = {e}");
    }
    let _ = writeln!(s, "\nfisher information");
    match &derivation.fisher {
        Ok(f) => {
            let _ = writeln!(s, "  method: closed-form");
            let mut rows = Vec::new();
            for i in 0..d.params.len() {
                for j in i..d.params.len() {
                    rows.push((
                        format!("[{}, {}]", d.params[i], d.params[j]),
                        &f.matrix[i][j],
                    ));
                }
            }
            let w = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
            for (k, e) in rows {
                let _ = writeln!(s, "  {k:<w$} = {e}");
            }
            if let Some(j) = &derivation.jeffreys {
                let _ = writeln!(s, "\njeffreys prior (unnormalized)\n  sqrt(det F) = {j}");
            }
        }
        Err(why) => {
            let _ = writeln!(
                s,
                "  method: numeric (no closed form: {why}); evaluate it at a point with `fisher eval`"
            );
        }
    }
    s
}

/// The LaTeX report of `fisher derive`: one display formula per line.
fn derive_latex(derivation: &Derivation) -> String {
    let d = &derivation.derivatives;
    let theta = d
        .params
        .iter()
        .map(|p| latex_name(p.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let column: Vec<Vec<crate::Expr>> = d.score.iter().map(|e| vec![e.clone()]).collect();
    let mut out = format!(
        "\\ell(x; {theta}) = {}\n\\nabla_\\theta \\ell = {}\n\\nabla^2_\\theta \\ell = {}\n",
        latex(&d.logp),
        latex_matrix(&column),
        latex_matrix(&d.hessian)
    );
    if let Ok(f) = &derivation.fisher {
        let _ = writeln!(out, "\\mathbf{{F}}({theta}) = {}", latex_matrix(&f.matrix));
    }
    if let Some(j) = &derivation.jeffreys {
        let _ = writeln!(out, "p_{{J}}({theta}) \\propto {}", latex(j));
    }
    out
}

fn list(format: Format) -> String {
    let models: Vec<(String, Result<Model, String>)> = Model::builtins()
        .into_iter()
        .map(|(n, src)| {
            (
                n.to_string(),
                Model::parse(src, n).map_err(|e| e.to_string()),
            )
        })
        .collect();
    match format {
        Format::Json => {
            let items: Vec<serde_json::Value> = models
                .iter()
                .filter_map(|(n, m)| m.as_ref().ok().map(|m| (n, m)))
                .map(|(n, m)| {
                    serde_json::json!({
                        "model": n,
                        "params": m.params.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
                        "data": m.data.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(),
                    })
                })
                .collect();
            json_line(&serde_json::json!({ "models": items }))
        }
        _ => {
            let w = models.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
            let mut s = String::new();
            for (n, m) in &models {
                match m {
                    Ok(m) => {
                        let _ = writeln!(
                            s,
                            "{n:<w$}  params {}  data {}",
                            params_line(&m.params),
                            data_line(&m.data)
                        );
                    }
                    Err(e) => {
                        let _ = writeln!(s, "{n:<w$}  (does not load: {e})");
                    }
                }
            }
            s
        }
    }
}

/// Runs `fisher` with explicit arguments and returns (exit code, stdout, stderr), colour off.
/// Used by the command-line tests.
pub fn run_args<I, T>(args: I) -> (i32, String, String)
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    match Cli::try_parse_from(args) {
        Err(e) => (
            if e.use_stderr() { 2 } else { 0 },
            String::new(),
            e.to_string(),
        ),
        Ok(cli) => match run(&cli, false) {
            Ok(out) => (0, out, String::new()),
            Err(Failure::Message(msg)) => (1, String::new(), msg),
            Err(Failure::Report(report)) => (1, report, String::new()),
        },
    }
}
