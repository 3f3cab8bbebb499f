//! Where and how results are printed: results and tables on stdout, hints, logs and errors on
//! stderr, in the mode chosen with `--format`/`--json`/`-q`.

use std::io::{IsTerminal, Write};

use serde::Serialize;
use serde_json::Value;

use crate::cli::{Format, OutputArgs};
use crate::render::to_json;
use crate::table::{self, Cell};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Human,
    Agent,
    Json,
    Quiet,
}

pub struct Out {
    pub mode: Mode,
    no_truncate: bool,
    color_out: bool,
    color_err: bool,
}

impl Out {
    pub fn new(args: &OutputArgs) -> anyhow::Result<Self> {
        let given: Vec<&str> = [
            ("--format", args.format.is_some()),
            ("--json", args.json),
            ("-q", args.quiet),
        ]
        .into_iter()
        .filter_map(|(flag, on)| on.then_some(flag))
        .collect();
        if given.len() > 1 {
            anyhow::bail!("'{}' and '{}' are mutually exclusive.", given[0], given[1]);
        }
        let mode = match (args.format, args.json, args.quiet) {
            (Some(Format::Agent), ..) => Mode::Agent,
            (Some(Format::Json), ..) | (None, true, _) => Mode::Json,
            (Some(Format::Quiet), ..) | (None, _, true) => Mode::Quiet,
            _ => Mode::Human,
        };
        let human = mode == Mode::Human;
        Ok(Self {
            mode,
            no_truncate: args.no_truncate,
            color_out: human && std::io::stdout().is_terminal() && no_color_unset(),
            color_err: human && std::io::stderr().is_terminal() && no_color_unset(),
        })
    }

    pub fn human(&self) -> bool {
        self.mode == Mode::Human
    }

    /// Free text on stdout (human and agent modes).
    pub fn text(&self, message: &str) {
        if matches!(self.mode, Mode::Human | Mode::Agent) {
            println_flush(message);
        }
    }

    /// A success message with key/value details.
    pub fn result(&self, message: &str, data: &[(&str, Option<String>)]) {
        let present = data.iter().filter_map(|(k, v)| v.as_ref().map(|v| (*k, v)));
        match self.mode {
            Mode::Human => {
                let mut lines = vec![paint(self.color_out, "32", &format!("✓ {message}"))];
                lines.extend(present.map(|(k, v)| format!("  {k}: {v}")));
                println_flush(&lines.join("\n"));
            }
            Mode::Agent => {
                let parts: Vec<String> = present.map(|(k, v)| format!("{k}={v}")).collect();
                println_flush(&if parts.is_empty() {
                    message.to_owned()
                } else {
                    parts.join(" ")
                });
            }
            Mode::Json => {
                let object: serde_json::Map<String, Value> = data
                    .iter()
                    .map(|(k, v)| {
                        (
                            (*k).to_owned(),
                            v.clone().map_or(Value::Null, Value::String),
                        )
                    })
                    .collect();
                println_flush(&Value::Object(object).to_string());
            }
            Mode::Quiet => {
                if let Some(Some(first)) = data.first().map(|(_, v)| v) {
                    println_flush(first);
                }
            }
        }
    }

    /// A table: `headers` are keys (`job_id`), shown as `JOB_ID`; `items` are what --json
    /// prints; `quiet_column` is the column printed with -q.
    pub fn table<T: Serialize>(
        &self,
        headers: &[&str],
        rows: &[Vec<Cell>],
        items: &[T],
        quiet_column: usize,
    ) {
        if rows.is_empty() {
            self.no_results();
            return;
        }
        match self.mode {
            Mode::Human => {
                let shown_headers: Vec<String> =
                    headers.iter().map(|h| table::to_header(h)).collect();
                let mut shown: Vec<Vec<String>> = rows
                    .iter()
                    .map(|r| r.iter().map(Cell::human).collect())
                    .collect();
                let truncated = !self.no_truncate
                    && table::truncate_columns(&shown_headers, &mut shown, terminal_columns());
                let right = table::numeric_columns(rows, headers.len());
                println_flush(&table::tabulate(&shown_headers, &shown, &right));
                if truncated {
                    self.hint("Use `--no-truncate` or `--format json` to display full values.");
                }
            }
            Mode::Agent => {
                let mut text = headers.join("\t");
                for row in rows {
                    text.push('\n');
                    text.push_str(&row.iter().map(Cell::agent).collect::<Vec<_>>().join("\t"));
                }
                println_flush(&text);
            }
            Mode::Json => println_flush(&to_json(items).to_string()),
            Mode::Quiet => {
                let ids: Vec<String> = rows.iter().map(|r| r[quiet_column].agent()).collect();
                println_flush(&ids.join("\n"));
            }
        }
    }

    /// What an empty table prints.
    pub fn no_results(&self) {
        match self.mode {
            Mode::Human | Mode::Agent => println_flush("No results found."),
            Mode::Json => println_flush("[]"),
            Mode::Quiet => {}
        }
    }

    /// Detailed objects (`inspect`): indented JSON for humans, compact JSON otherwise, their
    /// `ids` with -q.
    pub fn objects<T: Serialize>(&self, items: &[T], ids: &[String]) {
        match self.mode {
            Mode::Human => {
                println_flush(&serde_json::to_string_pretty(&to_json(items)).unwrap_or_default())
            }
            Mode::Agent | Mode::Json => println_flush(&to_json(items).to_string()),
            Mode::Quiet => {
                let rows: Vec<Vec<Cell>> = ids.iter().map(|id| vec![Cell::text(id)]).collect();
                self.table(&["id"], &rows, items, 0);
            }
        }
    }

    /// `items` as one compact JSON array, whatever the mode.
    pub fn json<T: Serialize>(&self, items: &[T]) {
        println_flush(&to_json(items).to_string());
    }

    /// Progress and context on stderr (not in quiet mode).
    pub fn log(&self, message: &str) {
        if self.mode != Mode::Quiet {
            eprintln_flush(&paint(self.color_err, "90", message));
        }
    }

    pub fn hint(&self, message: &str) {
        self.log(&format!("Hint: {message}"));
    }

    pub fn warning(&self, message: &str) {
        eprintln_flush(&paint(self.color_err, "33", &format!("Warning: {message}")));
    }
}

fn no_color_unset() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

fn paint(enabled: bool, code: &str, text: &str) -> String {
    if enabled {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

/// `COLUMNS`, else the terminal's width, else 80 (as Python's `shutil.get_terminal_size`).
pub fn terminal_columns() -> usize {
    columns_env()
        .or_else(|| terminal_size::terminal_size_of(std::io::stdout()).map(|(w, _)| w.0.into()))
        .filter(|w| *w > 0)
        .unwrap_or(80)
}

/// [`terminal_columns`] of stderr, for what is drawn there.
pub fn stderr_columns() -> usize {
    columns_env()
        .or_else(|| terminal_size::terminal_size_of(std::io::stderr()).map(|(w, _)| w.0.into()))
        .filter(|w| *w > 0)
        .unwrap_or(80)
}

fn columns_env() -> Option<usize> {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .filter(|c| *c > 0)
}

/// Prints and flushes, ignoring a closed pipe (`hfjobs ps | head` must not panic).
pub fn println_flush(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{text}");
    let _ = stdout.flush();
}

pub fn eprintln_flush(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{text}");
    let _ = stderr.flush();
}

/// An error line, always printed.
pub fn error(message: &str) {
    let color = std::io::stderr().is_terminal() && no_color_unset();
    eprintln_flush(&paint(color, "31", &format!("Error: {message}")));
}
