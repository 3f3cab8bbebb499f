//! Live views redrawn in place: the scheduling status line of `run`, the upload progress bar
//! of `uv run` and the `stats -f` table. A [`LiveRegion`] remembers how many terminal rows its
//! last drawing took (a line wider than the terminal wraps onto several rows), moves back up
//! over exactly those rows, clears them and draws the new text.

use std::io::Write;

#[cfg(test)]
mod tests;

/// Some text drawn on a terminal stream, redrawn in place. The cursor always ends at the start
/// of the row after the text.
pub struct LiveRegion<W: Write> {
    stream: W,
    /// Terminal rows of the current drawing.
    rows: usize,
}

impl<W: Write> LiveRegion<W> {
    pub fn new(stream: W) -> Self {
        Self { stream, rows: 0 }
    }

    /// Replaces what was drawn with `text`, laid out on a terminal `columns` wide.
    pub fn draw(&mut self, text: &str, columns: usize) {
        let mut frame = self.erase_sequence();
        frame.push_str(text);
        frame.push('\n');
        self.rows = rows(text, columns);
        self.write(&frame);
    }

    /// Removes what was drawn; the cursor goes back to where the region started.
    pub fn clear(&mut self) {
        let frame = self.erase_sequence();
        self.rows = 0;
        self.write(&frame);
    }

    /// Keeps what was drawn on screen; the next drawing starts below it.
    pub fn keep(&mut self) {
        self.rows = 0;
    }

    /// Rows taken by the current drawing.
    #[cfg(test)]
    pub fn rows(&self) -> usize {
        self.rows
    }

    #[cfg(test)]
    pub fn into_inner(self) -> W {
        self.stream
    }

    /// Up over every row of the current drawing, then clear from there to the end of the
    /// screen.
    fn erase_sequence(&self) -> String {
        match self.rows {
            0 => String::new(),
            n => format!("\x1b[{n}A\r\x1b[J"),
        }
    }

    fn write(&mut self, frame: &str) {
        // A closed terminal is not worth failing the command for.
        let _ = self.stream.write_all(frame.as_bytes());
        let _ = self.stream.flush();
    }
}

/// Terminal rows `text` takes when printed on a terminal `columns` wide and followed by a line
/// break: one per line, plus one per wrap of a line wider than the terminal. A line exactly as
/// wide as the terminal takes one row (the cursor waits at the margin until the line break).
pub fn rows(text: &str, columns: usize) -> usize {
    let columns = columns.max(1);
    text.split('\n')
        .map(|line| width(line).div_ceil(columns).max(1))
        .sum()
}

/// Columns a line takes: one per character, escape sequences (colours) and carriage returns
/// excluded.
pub fn width(line: &str) -> usize {
    let mut count = 0;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => {
                // CSI: ESC [ parameters, then one final byte in @..~.
                if chars.peek() == Some(&'[') {
                    chars.next();
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
            }
            '\r' => {}
            _ => count += 1,
        }
    }
    count
}
