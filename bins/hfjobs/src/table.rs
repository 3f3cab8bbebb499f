//! Table formatting as `hf` prints it: SCREAMING_SNAKE headers, left-aligned padded columns
//! (numbers right-aligned), cells shrunk to the terminal width with `...`, and the durations of
//! the `RUNTIME` column.

#[cfg(test)]
mod tests;

/// One table cell; how it prints depends on the output mode.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Bool(bool),
    Float(f64),
    Empty,
}

impl Cell {
    pub fn text(text: impl Into<String>) -> Self {
        Cell::Text(text.into())
    }

    fn is_numeric(&self) -> bool {
        matches!(self, Cell::Float(_) | Cell::Empty)
    }

    /// Human display: one line, dates shortened to the day, `✔` for true.
    pub fn human(&self) -> String {
        match self {
            Cell::Text(text) if looks_like_iso_datetime(text) => text[..10].to_owned(),
            Cell::Text(text) => single_line(text),
            Cell::Bool(true) => "✔".into(),
            Cell::Bool(false) | Cell::Empty => String::new(),
            Cell::Float(x) => python_float(*x),
        }
    }

    /// Agent (TSV) display: one line, nothing shortened.
    pub fn agent(&self) -> String {
        match self {
            Cell::Text(text) => single_line(text),
            Cell::Bool(b) => if *b { "True" } else { "False" }.into(),
            Cell::Empty => "None".into(),
            Cell::Float(x) => python_float(*x),
        }
    }
}

fn looks_like_iso_datetime(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() >= 11
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit)
        && b[10] == b'T'
}

/// `str(float)` in Python: always a decimal point.
pub fn python_float(x: f64) -> String {
    if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e16 {
        format!("{x:.1}")
    } else {
        x.to_string()
    }
}

/// Whitespace runs become one space; control characters are escaped so Hub text cannot move
/// the cursor.
pub fn single_line(text: &str) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    escape_control_chars(&joined)
}

pub fn escape_control_chars(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// `camelCase`/`snake_case` → `SCREAMING_SNAKE_CASE` (`image/space` → `IMAGE/SPACE`).
pub fn to_header(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut previous_lower = false;
    for c in name.chars() {
        if previous_lower && c.is_ascii_uppercase() {
            out.push('_');
        }
        previous_lower = c.is_ascii_lowercase();
        out.extend(c.to_uppercase());
    }
    out
}

fn width(text: &str) -> usize {
    text.chars().count()
}

/// Shrinks the widest columns one character at a time until the table fits `columns`
/// (never below the header or 4 characters), then cuts cells with `...`. Returns whether a cell
/// was cut.
pub fn truncate_columns(headers: &[String], rows: &mut [Vec<String>], columns: usize) -> bool {
    if rows.is_empty() {
        return false;
    }
    let n = headers.len();
    let mut caps: Vec<usize> = (0..n)
        .map(|c| {
            rows.iter()
                .map(|r| width(&r[c]))
                .chain([width(&headers[c])])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let budget = columns.saturating_sub(n.saturating_sub(1));
    if caps.iter().sum::<usize>() <= budget {
        return false;
    }
    let floors: Vec<usize> = headers.iter().map(|h| width(h).max(4)).collect();
    while caps.iter().sum::<usize>() > budget {
        // The widest column above its floor; the first one on ties, as Python's max().
        let mut widest: Option<usize> = None;
        for i in 0..n {
            if caps[i] > floors[i] && widest.is_none_or(|w| caps[i] > caps[w]) {
                widest = Some(i);
            }
        }
        let Some(widest) = widest else { break };
        caps[widest] -= 1;
    }
    let mut truncated = false;
    for row in rows.iter_mut() {
        for (c, cell) in row.iter_mut().enumerate() {
            if width(cell) > caps[c] {
                truncated = true;
                let kept: String = cell.chars().take(caps[c].saturating_sub(3)).collect();
                *cell = format!("{kept}...");
            }
        }
    }
    truncated
}

/// Padded columns separated by one space, a dashed rule under the headers. Every column is
/// padded, the last one too, as Python's `tabulate` does.
pub fn tabulate(headers: &[String], rows: &[Vec<String>], right_aligned: &[bool]) -> String {
    let widths: Vec<usize> = (0..headers.len())
        .map(|c| {
            rows.iter()
                .map(|r| width(&r[c]))
                .chain([width(&headers[c])])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| -> String {
        cells
            .iter()
            .enumerate()
            .map(|(c, cell)| {
                let pad = " ".repeat(widths[c].saturating_sub(width(cell)));
                if right_aligned.get(c).copied().unwrap_or(false) {
                    format!("{pad}{cell}")
                } else {
                    format!("{cell}{pad}")
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    let mut lines = vec![line(headers), line(&rule)];
    lines.extend(rows.iter().map(|r| line(r)));
    lines.join("\n")
}

/// Columns whose every cell is a number (or empty) are right-aligned.
pub fn numeric_columns(rows: &[Vec<Cell>], columns: usize) -> Vec<bool> {
    (0..columns)
        .map(|c| rows.iter().all(|r| r[c].is_numeric()))
        .collect()
}

/// `45s`, `1m 32s`, `2h 15m`; `--` when unknown.
pub fn format_duration(seconds: Option<f64>) -> String {
    let Some(seconds) = seconds else {
        return "--".into();
    };
    let secs = seconds.max(0.0) as u64;
    if secs < 60 {
        format!("{secs}s")
    } else if secs < 3600 {
        format!("{}m {}s", secs / 60, secs % 60)
    } else {
        format!("{}h {}m", secs / 3600, (secs % 3600) / 60)
    }
}

/// Human-readable byte counts as Python's `_format_size` (`4.0G`, `980.0`, `1.2K`).
pub fn format_size(num: f64) -> String {
    let mut value = num;
    for unit in ["", "K", "M", "G", "T", "P", "E", "Z"] {
        if value.abs() < 1000.0 {
            return format!("{value:.1}{unit}");
        }
        value /= 1000.0;
    }
    format!("{value:.1}Y")
}
