//! All printing goes through here: formats (table, wide, json, yaml), colour, and
//! the rule that a closed pipe is not an error.
//!
//! Colour is used only when stdout (or stderr, for messages) is a terminal, `NO_COLOR`
//! is unset, and `--color` is not `never`; `--color always` forces it.

use std::io::{self, IsTerminal, Write};

use anstyle::{AnsiColor, Style};
use serde::Serialize;

use crate::cli::{ColorChoice, GlobalArgs, OutputFormat};

pub const ERROR: Style = AnsiColor::Red.on_default().bold();
pub const WARNING: Style = AnsiColor::Yellow.on_default().bold();
pub const INFO: Style = AnsiColor::Cyan.on_default().bold();
pub const OK: Style = AnsiColor::Green.on_default().bold();
pub const DIM: Style = Style::new().dimmed();
pub const BOLD: Style = Style::new().bold();

#[derive(Debug, Clone)]
pub struct Output {
    format: OutputFormat,
    color_out: bool,
    color_err: bool,
}

fn use_color(choice: ColorChoice, is_tty: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => is_tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    }
}

impl Output {
    pub fn new(g: &GlobalArgs) -> Self {
        Self {
            format: g.output,
            color_out: use_color(g.color, io::stdout().is_terminal()),
            color_err: use_color(g.color, io::stderr().is_terminal()),
        }
    }

    pub fn format(&self) -> OutputFormat {
        self.format
    }

    /// Whether the format asks for data (json/yaml) rather than text.
    pub fn is_data(&self) -> bool {
        matches!(self.format, OutputFormat::Json | OutputFormat::Yaml)
    }

    /// `text` in `style` when stdout is coloured.
    pub fn paint(&self, style: Style, text: &str) -> String {
        paint(self.color_out, style, text)
    }

    /// One line of text on stdout.
    pub fn line(&self, text: &str) -> io::Result<()> {
        let mut out = io::stdout().lock();
        writeln!(out, "{text}")
    }

    /// Raw text on stdout, as given (scripts, manifests).
    pub fn raw(&self, text: &str) -> io::Result<()> {
        let mut out = io::stdout().lock();
        out.write_all(text.as_bytes())?;
        out.flush()
    }

    /// A value as JSON or YAML, per `-o`. Text formats fall back to YAML.
    pub fn data<T: Serialize>(&self, value: &T) -> io::Result<()> {
        let text = match self.format {
            OutputFormat::Json => {
                let mut s = serde_json::to_string_pretty(value).map_err(io::Error::other)?;
                s.push('\n');
                s
            }
            _ => serde_saphyr::to_string(value).map_err(io::Error::other)?,
        };
        self.raw(&text)
    }

    /// A table in kubectl's style: upper-case headers, no borders.
    pub fn table(&self, headers: &[&str], rows: &[Vec<String>]) -> io::Result<()> {
        let mut t = comfy_table::Table::new();
        t.load_style(comfy_table::presets::NOTHING);
        t.set_content_arrangement(comfy_table::ContentArrangement::Disabled);
        t.set_header(headers.iter().map(|h| h.to_uppercase()));
        for row in rows {
            t.add_row(row);
        }
        for col in t.column_iter_mut() {
            col.set_padding((0, 3));
        }
        let text = t.to_string();
        let mut out = io::stdout().lock();
        for l in text.lines() {
            writeln!(out, "{}", l.trim_end())?;
        }
        Ok(())
    }

    /// A message for the user on stderr: `error: ...`.
    pub fn error(&self, msg: &str) {
        let _ = writeln!(
            io::stderr().lock(),
            "{}: {msg}",
            paint(self.color_err, ERROR, "error")
        );
    }

    /// A progress or summary note on stderr, so stdout stays clean data.
    pub fn note(&self, msg: &str) -> io::Result<()> {
        writeln!(io::stderr().lock(), "{msg}")
    }

    /// `text` in `style` when stderr is coloured.
    pub fn paint_err(&self, style: Style, text: &str) -> String {
        paint(self.color_err, style, text)
    }
}

fn paint(on: bool, style: Style, text: &str) -> String {
    if on {
        format!("{style}{text}{style:#}")
    } else {
        text.to_owned()
    }
}
