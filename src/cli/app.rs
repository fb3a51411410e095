//! The `fisher` commands. The only code that prints; errors become code frames on stderr and
//! a non-zero exit.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use super::diagnostic::render_error;
use super::format::Format;
use super::format::json_line;
use crate::info::{self, Derivation};
use crate::model::{DataVar, Domain, Model, Param, Point, Support};
use crate::render::{self, latex, latex_matrix, latex_name};

/// Exact Fisher geometry from a log-density.
#[derive(Debug, Parser)]
#[command(name = "fisher", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
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
        /// Skip the verification of closed forms against quadrature (and the numeric checks
        /// of the model): faster, and the closed forms are reported as not verified.
        #[arg(long)]
        no_verify: bool,
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
        /// Compare the closed form with quadrature at the given point only, not also at the
        /// verification points.
        #[arg(long)]
        no_verify: bool,
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
        /// Skip the verification of a closed-form divergence against quadrature and the
        /// numeric checks of the model at `p` and `q`.
        #[arg(long)]
        no_verify: bool,
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
    /// The symmetric square root of the Fisher matrix at a point: the whitening map to local
    /// coordinates in which the Fisher ball is the unit ball.
    Whiten {
        /// A `.model` file or the name of a built-in model.
        model: String,
        /// The point: `name=value,name=value`, every parameter.
        #[arg(long)]
        at: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Christoffel symbols, Ricci tensor and scalar curvature of the Fisher metric: as
    /// formulas for a closed-form metric, or at a point.
    Curvature {
        /// A `.model` file or the name of a built-in model.
        model: String,
        /// The point: `name=value,name=value`, every parameter; without it, formulas.
        #[arg(long)]
        at: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// The Fisher-Rao distance between two members of the family: the hyperbolic formula
    /// of a location-scale metric, the integral of sqrt(F) for one parameter, or the length
    /// of the geodesic found by shooting.
    Distance {
        /// A `.model` file or the name of a built-in model.
        model: String,
        /// The first point: `name=value,...`, every parameter.
        #[arg(long)]
        a: String,
        /// The second point: `name=value,...`, every parameter.
        #[arg(long)]
        b: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// The geodesic between two members of the family, drawn over Fisher balls on a grid
    /// that covers it (SVG), with its length, the Fisher-Rao distance.
    Geodesic {
        /// A `.model` file or the name of a built-in model.
        model: String,
        /// The first point: `name=value,...`, every parameter.
        #[arg(long)]
        a: String,
        /// The second point: `name=value,...`, every parameter.
        #[arg(long)]
        b: String,
        /// The parameter on the horizontal axis (default: the first).
        #[arg(long)]
        x: Option<String>,
        /// The parameter on the vertical axis (default: the second, or the first if --x
        /// names the second).
        #[arg(long)]
        y: Option<String>,
        /// The grid of ball centres over the geodesic's range, `COLUMNSxROWS`.
        #[arg(long, default_value = "4x4")]
        grid: String,
        /// The Fisher radius of the balls (default: the distance over 4 times the larger grid
        /// count, within 0.01..0.5).
        #[arg(long, allow_negative_numbers = true)]
        radius: Option<f64>,
        /// The SVG file to write.
        #[arg(short = 'o', long = "output")]
        output: std::path::PathBuf,
        /// Output format of the report.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Reparameterize a model by a map from new parameters to the old ones: the substituted
    /// log-density, the Jacobian, the pullback `J^T F J` and its check against the Fisher
    /// matrix derived directly from the new model.
    Reparam {
        /// A `.model` file or the name of a built-in model.
        model: String,
        /// The new parameters, declared like `param` lines: `h: real, lambda: positive`.
        #[arg(long)]
        new: String,
        /// One equation per old parameter, in the new ones: `mu = h/lambda, sigma = 1/sqrt(lambda)`.
        #[arg(long)]
        map: String,
        /// Write the new model to this `.model` file (only when every check passed).
        #[arg(short, long)]
        output: Option<std::path::PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// The Jeffreys prior `sqrt(det F)`: its formula, whether it is proper, and its
    /// normalizing constant over a box or the whole domain.
    Jeffreys {
        /// A `.model` file or the name of a built-in model.
        model: String,
        /// A box `NAME=LO..HI,...` (every parameter) to normalize over.
        #[arg(long = "box")]
        bounds: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Draw Fisher balls over a grid of centres as SVG: at each centre the ellipse
    /// `ΔᵀFΔ = r²` in the plane of two parameters (on which KL ≈ r²/2) and the exact KL level
    /// set `D(θ‖θ₀) = r²/2`.
    Balls {
        /// A `.model` file or the name of a built-in model.
        model: String,
        /// The x axis: a parameter and the range of the centres, `NAME=LO..HI`.
        #[arg(long, allow_hyphen_values = true)]
        x: String,
        /// The y axis: `NAME=LO..HI`.
        #[arg(long, allow_hyphen_values = true)]
        y: String,
        /// The values of the other parameters, `NAME=V,...` (they are held fixed).
        #[arg(long, allow_hyphen_values = true)]
        fix: Option<String>,
        /// The grid of centres, `COLUMNSxROWS`.
        #[arg(long, default_value = "5x5")]
        grid: String,
        /// The Fisher radius r.
        #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
        radius: f64,
        /// Draw in the whitened coordinates of this centre, `NAME=V,NAME=V` (the two plotted
        /// parameters): its ball becomes the circle of radius r (and is drawn as one more
        /// ball when it is not a centre of the grid).
        #[arg(long, allow_hyphen_values = true)]
        whiten_at: Option<String>,
        /// The SVG file to write.
        #[arg(short = 'o', long = "output")]
        output: std::path::PathBuf,
        /// Output format of the report.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Maximum likelihood by Fisher scoring, with standard errors from the expected and the
    /// observed information and Wald intervals.
    Fit {
        /// A `.model` file or the name of a built-in model.
        model: String,
        /// A CSV file whose header names the model's data variables (`-`: standard input).
        data: String,
        /// The level of the Wald intervals.
        #[arg(long, default_value_t = 0.95)]
        level: f64,
        /// The starting point, `name=value,...` (default: chosen from the domains and the data).
        #[arg(long, allow_hyphen_values = true)]
        from: Option<String>,
        /// Skip the data columns that name no data variable of the model.
        #[arg(long)]
        ignore_extra: bool,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Natural-gradient and plain-gradient ascent of the mean log-likelihood from the same
    /// start with the same rate; with `-o`, both paths drawn over Fisher balls as SVG.
    Natgrad {
        /// A `.model` file or the name of a built-in model.
        model: String,
        /// A CSV file whose header names the model's data variables (`-`: standard input).
        data: String,
        /// The start, `name=value,...`.
        #[arg(long, allow_hyphen_values = true)]
        from: String,
        /// The number of steps.
        #[arg(long)]
        steps: usize,
        /// The learning rate α: `θ ← θ + α F⁻¹ ∇ℓ/N` (natural), `θ ← θ + α ∇ℓ/N` (plain).
        #[arg(long, default_value_t = 0.1)]
        lr: f64,
        /// The parameter on the x axis of the figure (default: the first).
        #[arg(long)]
        x: Option<String>,
        /// The parameter on the y axis (default: the second).
        #[arg(long)]
        y: Option<String>,
        /// The grid of Fisher balls under the paths, `COLUMNSxROWS`.
        #[arg(long, default_value = "5x5")]
        grid: String,
        /// The SVG file to write.
        #[arg(short = 'o', long = "output")]
        output: Option<std::path::PathBuf>,
        /// Skip the data columns that name no data variable of the model.
        #[arg(long)]
        ignore_extra: bool,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// The Wallace–Freeman (MML87) message length of each candidate model on the same data,
    /// with AIC and BIC; the best candidate named.
    Mml {
        /// The candidate models (`.model` files or built-in names), then the CSV file of data
        /// (`-`: standard input).
        #[arg(required = true, num_args = 2..)]
        models_and_data: Vec<String>,
        /// The log prior density over the parameters, up to a constant (normalized over the
        /// box or the domain); default: the Jeffreys prior.
        #[arg(long, allow_hyphen_values = true)]
        prior: Option<String>,
        /// A box `NAME=LO..HI,...` over which the prior is normalized; names of every
        /// candidate in one list (a name shared by two candidates takes one range).
        #[arg(long = "box", allow_hyphen_values = true)]
        bounds: Option<String>,
        /// Skip the data columns that name no data variable of a candidate.
        #[arg(long)]
        ignore_extra: bool,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Sample the posterior by Riemannian-manifold HMC (metric N·F − ∇² ln prior, exact
    /// derivatives from the Fisher field) or HMC; a summary per parameter.
    Sample {
        /// A `.model` file or the name of a built-in model.
        model: String,
        /// A CSV file whose header names the model's data variables (`-`: standard input).
        data: String,
        /// The log prior density over the parameters, up to a constant; default: the Jeffreys
        /// prior where it is proper on the domain.
        #[arg(long, allow_hyphen_values = true)]
        prior: Option<String>,
        /// Number of chains.
        #[arg(long, default_value_t = 4)]
        chains: usize,
        /// Draws kept per chain.
        #[arg(long, default_value_t = 1000)]
        draws: usize,
        /// Warm-up iterations per chain (step size and, for HMC, mass adaptation).
        #[arg(long, default_value_t = 1000)]
        warmup: usize,
        /// The seed of the random streams.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The sampler.
        #[arg(long, value_enum, default_value_t = SamplerArg::Rmhmc)]
        sampler: SamplerArg,
        /// Write the draws to this file: CSV, or JSON for a `.json` name.
        #[arg(short = 'o', long = "output")]
        output: Option<std::path::PathBuf>,
        /// No progress bars.
        #[arg(long)]
        quiet: bool,
        /// Skip the data columns that name no data variable of the model.
        #[arg(long)]
        ignore_extra: bool,
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

/// `--sampler`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum SamplerArg {
    /// Riemannian-manifold HMC.
    Rmhmc,
    /// Euclidean HMC with a diagonal mass matrix.
    Hmc,
}

/// What a failed command prints.
enum Failure {
    /// An error message, for stderr.
    Message(String),
    /// A complete report that says something failed (`fisher check`), for stdout.
    Report(String),
}

impl From<super::geometry::GeometryCommandError> for Failure {
    fn from(e: super::geometry::GeometryCommandError) -> Failure {
        Failure::Message(format!("error: {e}\n"))
    }
}

impl From<super::reparam::ReparamFailure> for Failure {
    fn from(e: super::reparam::ReparamFailure) -> Failure {
        match e {
            super::reparam::ReparamFailure::Message(m) => Failure::Message(m),
            super::reparam::ReparamFailure::Mismatch(r) => Failure::Report(r),
        }
    }
}

impl From<super::stats::StatsError> for Failure {
    fn from(e: super::stats::StatsError) -> Failure {
        Failure::Message(format!("error: {e}\n"))
    }
}

impl From<super::numeric::CommandError> for Failure {
    fn from(e: super::numeric::CommandError) -> Failure {
        Failure::Message(format!("error: {e}\n"))
    }
}

/// Parses a command-line point against the model's parameters.
fn point(model: &Model, flag: &str, text: &str) -> Result<Point, Failure> {
    Point::parse(model, text).map_err(|e| Failure::Message(format!("error: {flag} {text}: {e}\n")))
}

/// Runs the command line with the process arguments.
pub(super) fn main() -> ExitCode {
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
    let mut notes = Vec::new();
    let result = run(&cli, color, &mut notes);
    // Notes first: they say which model a run used.
    let mut stderr = std::io::stderr().lock();
    for note in &notes {
        let _ = stderr.write_all(note.as_bytes());
    }
    let (to_stdout, text, code) = match &result {
        Ok(out) => (true, out, ExitCode::SUCCESS),
        Err(Failure::Message(msg)) => (false, msg, ExitCode::from(1)),
        Err(Failure::Report(report)) => (true, report, ExitCode::from(1)),
    };
    if !to_stdout {
        let _ = stderr.write_all(text.as_bytes());
        return code;
    }
    let mut stdout = std::io::stdout().lock();
    match write_output(&mut stdout, text) {
        Ok(()) => code,
        Err(WriteFailure::Closed) => code,
        Err(WriteFailure::Failed(msg)) => {
            let _ = stderr.write_all(msg.as_bytes());
            ExitCode::from(1)
        }
    }
}

/// Why the output could not be written.
#[derive(Debug, PartialEq)]
enum WriteFailure {
    /// The reader went away (`fisher … | head -1`): nothing to report, so the command exits
    /// quietly, with the status it would have had.
    Closed,
    /// Any other error (a full disk): the message for stderr.
    Failed(String),
}

/// Writes and flushes the output; a failure says why, with the system's reason (`No space
/// left on device`), except a closed pipe, which is not an error of ours.
fn write_output(out: &mut impl std::io::Write, text: &str) -> Result<(), WriteFailure> {
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::BrokenPipe => WriteFailure::Closed,
            _ => WriteFailure::Failed(format!("error: cannot write the output: {e}\n")),
        })
}

/// Runs one command and returns what it prints on stdout, or the error text.
fn run(cli: &Cli, color: bool, notes: &mut Vec<String>) -> Result<String, Failure> {
    match &cli.command {
        Command::Derive {
            model,
            format,
            no_verify,
        } => {
            let model = load(model, color, notes)?;
            let d = info::derivation_opts(&model, !no_verify)
                .map_err(|e| Failure::Message(format!("error: {e}\n")))?;
            Ok(match format {
                Format::Text => derive_text(&model, &d),
                Format::Latex => derive_latex(&model, &d),
                Format::Json => json_line(&render::json::derive(&model, &d)),
            })
        }
        Command::List { format } => Ok(list(*format)),
        Command::Eval {
            model,
            at,
            format,
            no_verify,
        } => {
            let model = load(model, color, notes)?;
            let at = point(&model, "--at", at)?;
            super::progress::run(|| super::numeric::eval(&model, &at, *format, !no_verify))
                .map_err(Failure::from)
        }
        Command::Kl {
            model,
            p,
            q,
            format,
            no_verify,
        } => {
            let model = load(model, color, notes)?;
            let p = point(&model, "--p", p)?;
            let q = point(&model, "--q", q)?;
            super::progress::run(|| super::numeric::kl(&model, &p, &q, *format, !no_verify))
                .map_err(Failure::from)
        }
        Command::Jeffreys {
            model,
            bounds,
            format,
        } => {
            let model = load(model, color, notes)?;
            super::progress::run(|| super::geometry::jeffreys(&model, bounds.as_deref(), *format))
                .map_err(Failure::from)
        }
        Command::Distance {
            model,
            a,
            b,
            format,
        } => {
            let model = load(model, color, notes)?;
            let a = point(&model, "--a", a)?;
            let b = point(&model, "--b", b)?;
            super::progress::run(|| super::distance::distance_command(&model, &a, &b, *format))
                .map_err(Failure::from)
        }
        Command::Geodesic {
            model,
            a,
            b,
            x,
            y,
            grid,
            radius,
            output,
            format,
        } => {
            let model = load(model, color, notes)?;
            let a = point(&model, "--a", a)?;
            let b = point(&model, "--b", b)?;
            let args = super::geodesic::GeodesicArgs {
                x: x.as_deref(),
                y: y.as_deref(),
                grid,
                radius: *radius,
                output,
            };
            super::progress::run(|| {
                super::geodesic::geodesic_command(&model, &a, &b, &args, *format)
            })
            .map_err(Failure::from)
        }
        Command::Reparam {
            model,
            new,
            map,
            output,
            format,
        } => {
            let model = load(model, color, notes)?;
            let args = super::reparam::ReparamArgs {
                new,
                map,
                output: output.as_deref(),
                format: *format,
                color,
            };
            super::progress::run(|| super::reparam::reparam(&model, &args)).map_err(Failure::from)
        }
        Command::Balls {
            model,
            x,
            y,
            fix,
            grid,
            radius,
            whiten_at,
            output,
            format,
        } => {
            let model = load(model, color, notes)?;
            let args = super::balls::BallsArgs {
                x,
                y,
                fix: fix.as_deref(),
                grid,
                radius: *radius,
                whiten_at: whiten_at.as_deref(),
                output,
            };
            super::progress::run(|| super::balls::balls(&model, &args, *format))
                .map_err(Failure::from)
        }
        Command::Fit {
            model,
            data,
            level,
            from,
            ignore_extra,
            format,
        } => {
            let model = load(model, color, notes)?;
            let from = from
                .as_deref()
                .map(|text| point(&model, "--from", text))
                .transpose()?;
            let args = super::fit::FitArgs {
                data,
                level: *level,
                from: from.as_ref(),
                ignore_extra: *ignore_extra,
            };
            super::progress::run(|| super::fit::fit(&model, &args, *format)).map_err(Failure::from)
        }
        Command::Natgrad {
            model,
            data,
            from,
            steps,
            lr,
            x,
            y,
            grid,
            output,
            ignore_extra,
            format,
        } => {
            let model = load(model, color, notes)?;
            let from = point(&model, "--from", from)?;
            let args = super::natgrad::NatgradArgs {
                data,
                from: &from,
                steps: *steps,
                rate: *lr,
                output: output.as_deref(),
                x: x.as_deref(),
                y: y.as_deref(),
                grid,
                ignore_extra: *ignore_extra,
            };
            super::progress::run(|| super::natgrad::natgrad(&model, &args, *format))
                .map_err(Failure::from)
        }
        Command::Mml {
            models_and_data,
            prior,
            bounds,
            ignore_extra,
            format,
        } => {
            let (data, names) = models_and_data.split_last().ok_or_else(|| {
                Failure::Message("error: give the models, then the data\n".to_string())
            })?;
            let models = names
                .iter()
                .map(|m| load(m, color, notes))
                .collect::<Result<Vec<_>, _>>()?;
            let args = super::mml::MmlArgs {
                data,
                prior: prior.as_deref(),
                bounds: bounds.as_deref(),
                ignore_extra: *ignore_extra,
            };
            super::progress::run(|| super::mml::mml(&models, &args, *format)).map_err(Failure::from)
        }
        Command::Sample {
            model,
            data,
            prior,
            chains,
            draws,
            warmup,
            seed,
            sampler,
            output,
            quiet,
            ignore_extra,
            format,
        } => {
            let model = load(model, color, notes)?;
            let args = super::sample::SampleArgs {
                data,
                prior: prior.as_deref(),
                chains: *chains,
                draws: *draws,
                warmup: *warmup,
                seed: *seed,
                sampler: match sampler {
                    SamplerArg::Rmhmc => crate::inference::Sampler::Rmhmc,
                    SamplerArg::Hmc => crate::inference::Sampler::Hmc,
                },
                output: output.as_deref(),
                quiet: *quiet,
                ignore_extra: *ignore_extra,
            };
            super::sample::sample(&model, &args, *format).map_err(Failure::from)
        }
        Command::Whiten { model, at, format } => {
            let model = load(model, color, notes)?;
            let at = point(&model, "--at", at)?;
            super::progress::run(|| super::geometry::whiten(&model, &at, *format))
                .map_err(Failure::from)
        }
        Command::Curvature { model, at, format } => {
            let model = load(model, color, notes)?;
            match at {
                Some(at) => {
                    let at = point(&model, "--at", at)?;
                    super::progress::run(|| super::geometry::curvature_at(&model, &at, *format))
                        .map_err(Failure::from)
                }
                None => super::progress::run(|| super::geometry::curvature(&model, *format))
                    .map_err(Failure::from),
            }
        }
        Command::Check {
            model,
            points,
            seed,
            format,
        } => {
            let model = load(model, color, notes)?;
            match super::progress::run(|| super::numeric::check(&model, *points, *seed, *format))
                .map_err(Failure::from)?
            {
                (report, true) => Ok(report),
                (report, false) => Err(Failure::Report(report)),
            }
        }
    }
}

/// Loads a model from a path, or a built-in by name. A file wins over a built-in of the same
/// name (it is the more specific of the two), and a note in `notes` says so.
fn load(spec: &str, color: bool, notes: &mut Vec<String>) -> Result<Model, Failure> {
    let path = Path::new(spec);
    let builtin = Model::builtins().into_iter().find(|(n, _)| *n == spec);
    if path.is_file() {
        if builtin.is_some() {
            notes.push(format!(
                "note: `{spec}` is both a file and a built-in model; using the file (rename it to use the built-in)\n"
            ));
        }
        let bytes = std::fs::read(path)
            .map_err(|e| Failure::Message(format!("error: cannot read `{spec}`: {e}\n")))?;
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("model");
        return Model::from_bytes(&bytes, stem).map_err(|e| {
            Failure::Message(render_error(
                &crate::parse::display_text(&bytes),
                spec,
                &e.to_string(),
                e.span.clone(),
                color,
            ))
        });
    }
    if let Some((_, source)) = builtin {
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

/// `text` padded with spaces to `width` characters. Not `{:<width$}`: format widths stop at
/// `u16::MAX`, and beyond it `format!` panics (the Hessian label of two long names).
fn pad(text: &str, width: usize) -> String {
    let fill = width.saturating_sub(text.chars().count());
    let mut out = String::with_capacity(text.len() + fill);
    out.push_str(text);
    out.extend(std::iter::repeat_n(' ', fill));
    out
}

/// The text report of `fisher derive`.
fn derive_text(model: &Model, derivation: &Derivation) -> String {
    let (lets, derivation) = render::derivation_lets(model, derivation, render::MIN_LETS_TREE);
    let derivation = &derivation;
    let d = &derivation.derivatives;
    let mut s = String::new();
    let _ = writeln!(s, "model {}", model.name);
    let _ = writeln!(s, "params  {}", params_line(&model.params));
    let _ = writeln!(s, "data    {}", data_line(&model.data));
    if !lets.is_empty() {
        let _ = writeln!(s, "\nshared subexpressions");
        for (name, e) in &lets {
            let _ = writeln!(s, "  let {name} = {e}");
        }
    }
    let _ = writeln!(s, "\nlog-density\n  logp = {}", d.logp);
    let _ = writeln!(s, "\nscore");
    let width = d.params.iter().map(|p| p.as_str().len()).max().unwrap_or(0);
    for (p, e) in d.params.iter().zip(&d.score) {
        let _ = writeln!(s, "  d/d{} = {e}", pad(p.as_str(), width));
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
        let _ = writeln!(s, "  {} = {e}", pad(&k, w));
    }
    let _ = writeln!(s, "\nfisher information");
    match derivation.closed() {
        Some(f) => {
            let how = derivation
                .verification
                .as_ref()
                .map(|v| format!(" ({})", v.describe()))
                .unwrap_or_default();
            let _ = writeln!(s, "  method: closed-form{how}");
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
                let _ = writeln!(s, "  {} = {e}", pad(&k, w));
            }
            if let Some(j) = &derivation.jeffreys {
                let _ = writeln!(s, "\njeffreys prior (unnormalized)\n  sqrt(det F) = {j}");
            }
        }
        None => {
            let why = derivation.reason().unwrap_or_default();
            let rejected = matches!(derivation.verification, Some(info::Verification::Failed(_)));
            let _ = writeln!(
                s,
                "  method: numeric ({}{why}); evaluate it at a point with `fisher eval`",
                if rejected { "" } else { "no closed form: " }
            );
        }
    }
    if let Some(why) = &derivation.skipped_checks {
        let _ = writeln!(
            s,
            "\nnote: the numeric checks of the model (integral of p = 1, E[s] = 0) could not be made: {why}"
        );
    }
    if !d.fallbacks.is_empty() {
        s.push('\n');
    }
    for f in &d.fallbacks {
        let _ = writeln!(s, "note: {f}");
    }
    s
}

/// The LaTeX report of `fisher derive`: one display formula per line.
fn derive_latex(model: &Model, derivation: &Derivation) -> String {
    let (lets, derivation) = render::derivation_lets(model, derivation, render::MIN_LETS_TREE);
    let derivation = &derivation;
    let d = &derivation.derivatives;
    let theta = d
        .params
        .iter()
        .map(|p| latex_name(p.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let column: Vec<Vec<crate::Expr>> = d.score.iter().map(|e| vec![e.clone()]).collect();
    let mut out = String::new();
    for (name, e) in &lets {
        let _ = writeln!(out, "{} = {}", latex_name(name.as_str()), latex(e));
    }
    let _ = write!(
        out,
        "\\ell(x; {theta}) = {}\n\\nabla_\\theta \\ell = {}\n\\nabla^2_\\theta \\ell = {}\n",
        latex(&d.logp),
        latex_matrix(&column),
        latex_matrix(&d.hessian)
    );
    if let Some(f) = derivation.closed() {
        let _ = writeln!(out, "\\mathbf{{F}}({theta}) = {}", latex_matrix(&f.matrix));
    }
    if let Some(j) = &derivation.jeffreys {
        let _ = writeln!(out, "p_{{J}}({theta}) \\propto {}", latex(j));
    }
    out
}

/// `fisher list --format json`: `{"models": [{"model", "params", "data"}]}`.
#[derive(serde::Serialize)]
struct ListJson<'a> {
    models: Vec<ListedJson<'a>>,
}

/// One built-in model of [`ListJson`].
#[derive(serde::Serialize)]
struct ListedJson<'a> {
    data: Vec<&'a str>,
    model: &'a str,
    params: Vec<&'a str>,
}

fn list(format: Format) -> String {
    let models: Vec<(String, Result<Model, crate::model::ModelError>)> = Model::builtins()
        .into_iter()
        .map(|(n, src)| (n.to_string(), Model::parse(src, n)))
        .collect();
    match format {
        Format::Json => {
            let models = models
                .iter()
                .filter_map(|(n, m)| m.as_ref().ok().map(|m| (n, m)))
                .map(|(n, m)| ListedJson {
                    data: m.data.iter().map(|d| d.name.as_str()).collect(),
                    model: n,
                    params: m.params.iter().map(|p| p.name.as_str()).collect(),
                })
                .collect();
            json_line(&ListJson { models })
        }
        Format::Latex => {
            let mut s = String::new();
            for (n, m) in &models {
                match m {
                    Ok(m) => s.push_str(&render::model_latex(m)),
                    Err(e) => s.push_str(&format!(
                        "{}\\colon\\ {}",
                        render::latex_text(n),
                        render::latex_text(&format!("does not load: {e}"))
                    )),
                }
                s.push('\n');
            }
            s
        }
        Format::Text => {
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

#[cfg(test)]
mod tests {
    use super::{WriteFailure, pad, write_output};

    /// A writer that fails with one kind of error.
    struct Failing(std::io::ErrorKind);

    impl std::io::Write for Failing {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(self.0.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_full_disk_is_reported_and_a_closed_pipe_is_not() {
        let full = write_output(&mut Failing(std::io::ErrorKind::StorageFull), "F");
        match full {
            Err(WriteFailure::Failed(msg)) => {
                assert!(msg.starts_with("error: cannot write the output: "), "{msg}");
            }
            other => panic!("{other:?}"),
        }
        let closed = write_output(&mut Failing(std::io::ErrorKind::BrokenPipe), "F");
        assert_eq!(closed, Err(WriteFailure::Closed));
        let mut ok = Vec::new();
        assert_eq!(write_output(&mut ok, "F"), Ok(()));
        assert_eq!(ok, b"F");
    }

    #[test]
    fn padding_has_no_width_limit() {
        let long = "a".repeat(70_000);
        assert_eq!(pad(&long, 70_003).len(), 70_003);
        assert_eq!(pad("ab", 4), "ab  ");
        assert_eq!(pad("abcd", 2), "abcd");
    }
}
