//! Text from outside (API error bodies, messages built from them) cut short and scrubbed of
//! credentials before it is stored as a record's reason or shown anywhere.
//!
//! [`scrub`] is the one call: it [`redact`]s, puts the text on one line and cuts it to
//! [`MAX_CHARS`] characters. Every credential is replaced by [`REDACTED`]:
//!
//! - GitHub tokens (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`) and HF tokens
//!   (`hf_` followed by a token-like run);
//! - JSON Web Tokens and other base64 JSON (`eyJ…`);
//! - the value after `Bearer`, `Basic`, `token` and keys named like a secret (`access_token=`,
//!   `"client_secret": "…"`, `password:`, `encoded_jit_config`): after `=` or a quoted `:`
//!   always, after a space only when it looks like a credential rather than a word;
//! - PEM blocks (`-----BEGIN … -----END …-----`, or to the end when the end is missing);
//! - the user information, query and fragment of URLs (`https://user:pass@host/p?q#f` becomes
//!   `https://[redacted]@host/p?[redacted]`);
//! - runs of 32 or more hexadecimal digits, and runs of 32 or more base64 characters that mix
//!   digits, upper and lower case.
//!
//! Control and invisible formatting characters become spaces, so a reason is one line that
//! cannot reorder what is shown around it. Pure: no IO.

#[cfg(test)]
mod tests;

/// The most characters [`scrub`] keeps, the closing `…` included.
pub const MAX_CHARS: usize = 300;

/// What a credential is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Input beyond this is dropped before scrubbing, so a huge error body costs little.
const MAX_INPUT_BYTES: usize = 64 * 1024;

/// The shortest run of hex or base64 characters taken for a credential.
const MIN_RUN: usize = 32;

const ELLIPSIS: char = '…';

/// Redacts credentials from `text`, puts it on one line and cuts it to [`MAX_CHARS`]
/// characters, ending with `…` when something was cut.
pub fn scrub(text: &str) -> String {
    scrub_to(text, MAX_CHARS)
}

/// [`scrub`] with another length: at most `max_chars` characters, the `…` included.
pub fn scrub_to(text: &str, max_chars: usize) -> String {
    let (bounded, was_cut) = bound(text);
    let clean = redact(bounded);
    cut(&clean, max_chars, was_cut)
}

/// Redacts credentials from `text` and puts it on one line, without cutting it.
pub fn redact(text: &str) -> String {
    // One pass can uncover what another would have caught (a URL whose query became a
    // marker); a few rounds reach the text that no pass changes.
    let mut text = redact_once(text);
    for _ in 0..4 {
        let again = redact_once(&text);
        if again == text {
            break;
        }
        text = again;
    }
    text
}

fn redact_once(text: &str) -> String {
    let text = pem_blocks(text);
    let text = one_line(&text);
    let text = urls(&text);
    let text = prefixed_tokens(&text);
    let text = jwts(&text);
    let text = keyed_values(&text);
    long_runs(&text)
}

/// The first [`MAX_INPUT_BYTES`] of `text`, without the run of token characters the limit fell
/// in (it could be part of a credential that would no longer be recognised), and whether
/// anything was dropped.
fn bound(text: &str) -> (&str, bool) {
    if text.len() <= MAX_INPUT_BYTES {
        return (text, false);
    }
    let mut end = MAX_INPUT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let head = &text[..end];
    let head = head.trim_end_matches(|c: char| c.is_ascii() && is_credential_byte(c as u8));
    (head, true)
}

/// At most `max_chars` characters of `text`, ending with `…` when `text` was longer or
/// `force_mark` says it was cut before.
fn cut(text: &str, max_chars: usize, force_mark: bool) -> String {
    if max_chars == 0 {
        return String::new();
    }
    let count = text.chars().count();
    if count <= max_chars && !force_mark {
        return text.to_owned();
    }
    let keep = if count < max_chars {
        count
    } else {
        max_chars - 1
    };
    let mut end = text.char_indices().nth(keep).map_or(text.len(), |(i, _)| i);
    // Never half a marker: `[reda…` would read as text.
    if let Some(open) = text[..end].rfind('[')
        && text[open..].starts_with(REDACTED)
        && open + REDACTED.len() > end
    {
        end = open;
    }
    let mut out = text[..end].trim_end().to_owned();
    out.push(ELLIPSIS);
    out
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Characters of a token value: base64 (both alphabets), hex, and the separators of JWTs.
fn is_credential_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'+' | b'/' | b'=' | b'.' | b'~')
}

/// The end of the run starting at `from` whose bytes satisfy `keep`.
fn run_end(bytes: &[u8], from: usize, keep: impl Fn(u8) -> bool) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| !keep(b))
        .map_or(bytes.len(), |n| from + n)
}

/// PEM blocks, the whole of them; an unterminated block to the end of the text.
fn pem_blocks(text: &str) -> String {
    const BEGIN: &str = "-----BEGIN";
    const END: &str = "-----END";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        out.push_str(&rest[..start]);
        out.push_str(REDACTED);
        let block = &rest[start..];
        rest = match block.find(END) {
            Some(end) => {
                let after_end = &block[end + END.len()..];
                // The closing dashes after the label (`-----END RSA PRIVATE KEY-----`).
                match after_end.find("-----") {
                    Some(close) if !after_end[..close].contains('\n') => {
                        &after_end[close + "-----".len()..]
                    }
                    _ => after_end.trim_start_matches(|c: char| c != '\n'),
                }
            }
            None => "",
        };
    }
    out.push_str(rest);
    out
}

/// Control characters and invisible formatting (bidirectional overrides, zero-width) become
/// one space; runs of white space shrink to one.
fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        let blank = c.is_control()
            || c.is_whitespace()
            || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}');
        if blank {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.push(c);
    }
    out
}

/// Bytes that end a URL written in running text; a URL on the wire is ASCII.
fn ends_url(b: u8) -> bool {
    !b.is_ascii()
        || b.is_ascii_whitespace()
        || matches!(b, b'"' | b'\'' | b'<' | b'>' | b'`' | b'\\')
}

/// URLs keep their scheme, host and path; user information, query and fragment are redacted.
fn urls(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut from = 0;
    while let Some(found) = text[from..].find("://") {
        let authority = from + found + 3;
        let end = run_end(bytes, authority, |b| !ends_url(b));
        let host_end = bytes[authority..end]
            .iter()
            .position(|b| matches!(b, b'/' | b'?' | b'#'))
            .map_or(end, |n| authority + n);
        out.push_str(&text[copied..authority]);
        match text[authority..host_end].rfind('@') {
            Some(at) => {
                out.push_str(REDACTED);
                out.push_str(&text[authority + at..host_end]);
            }
            None => out.push_str(&text[authority..host_end]),
        }
        let query = bytes[host_end..end]
            .iter()
            .position(|b| matches!(b, b'?' | b'#'))
            .map_or(end, |n| host_end + n);
        out.push_str(&text[host_end..query]);
        if query + 1 < end {
            out.push(char::from(bytes[query]));
            out.push_str(REDACTED);
        } else {
            out.push_str(&text[query..end]);
        }
        copied = end;
        from = end.max(authority);
    }
    out.push_str(&text[copied..]);
    out
}

/// GitHub and HF tokens, recognised by their prefixes.
fn prefixed_tokens(text: &str) -> String {
    const GITHUB: &[&str] = &["github_pat_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_"];
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let at_boundary = i == 0 || !is_word_byte(bytes[i - 1]);
        if !at_boundary || !matches!(bytes[i], b'g' | b'h') {
            i += 1;
            continue;
        }
        let rest = &text[i..];
        let end = if let Some(prefix) = GITHUB.iter().find(|p| rest.starts_with(**p)) {
            let end = run_end(bytes, i + prefix.len(), is_word_byte);
            (end - i - prefix.len() >= 4).then_some(end)
        } else if rest.starts_with("hf_") {
            let body = i + 3;
            let end = run_end(bytes, body, |b| b.is_ascii_alphanumeric());
            let token = &bytes[body..end];
            let varied = token
                .iter()
                .any(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
            (token.len() >= 30 || (token.len() >= 8 && varied)).then_some(end)
        } else {
            None
        };
        match end {
            Some(end) => {
                out.push_str(&text[copied..i]);
                out.push_str(REDACTED);
                copied = end;
                i = end;
            }
            None => i += 1,
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// JSON Web Tokens, and any base64 of a JSON object (`eyJ` is `{"`).
fn jwts(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut from = 0;
    while let Some(found) = text[from..].find("eyJ") {
        let start = from + found;
        let at_boundary = start == 0 || !bytes[start - 1].is_ascii_alphanumeric();
        let end = run_end(bytes, start, is_credential_byte);
        if at_boundary && end - start >= 16 {
            out.push_str(&text[copied..start]);
            out.push_str(REDACTED);
            copied = end;
        }
        from = end.max(start + 3);
    }
    out.push_str(&text[copied..]);
    out
}

/// Keys whose values are secrets, matched at the end of a key (`HF_TOKEN`, `client_secret`).
const SECRET_KEYS: &[&str] = &[
    "token",
    "secret",
    "password",
    "passwd",
    "apikey",
    "api_key",
    "api-key",
    "private_key",
    "private-key",
    "jitconfig",
    "jit_config",
    "credential",
    "credentials",
    "authorization",
];

/// Authentication schemes, whose next word is the credential.
const SCHEMES: &[&str] = &["bearer", "basic", "token"];

/// Whether a value that follows its key after a space only (where a sentence may go on) looks
/// like a credential rather than a word: digits, or capitals after the first letter, or a long
/// run with token punctuation.
fn looks_secret(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() >= 6
        && bytes.iter().all(|&b| is_credential_byte(b))
        && (bytes.iter().any(u8::is_ascii_digit)
            || bytes[1..].iter().any(u8::is_ascii_uppercase)
            || (bytes.len() >= 16 && bytes.iter().any(|b| !b.is_ascii_alphabetic())))
}

/// The bytes a value may hold: everything but white space, quotes and what closes a list,
/// a parameter or a redaction.
fn is_value_byte(b: u8) -> bool {
    !b.is_ascii_whitespace()
        && !matches!(
            b,
            b'"' | b'\''
                | b'`'
                | b','
                | b';'
                | b'&'
                | b'<'
                | b'>'
                | b'('
                | b')'
                | b'['
                | b']'
                | b'{'
                | b'}'
        )
}

/// Values after authentication schemes and keys named like secrets.
fn keyed_values(text: &str) -> String {
    let bytes = text.as_bytes();
    let is_key_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if !is_key_byte(bytes[i]) || (i > 0 && is_key_byte(bytes[i - 1])) {
            i += 1;
            continue;
        }
        let key_end = run_end(bytes, i, is_key_byte);
        let key = text[i..key_end].to_ascii_lowercase();
        let scheme = SCHEMES.contains(&key.as_str());
        if !scheme && !SECRET_KEYS.iter().any(|k| key.ends_with(k)) {
            i = key_end;
            continue;
        }
        // `key=value`, `key: value`, `"key": "value"`, `Scheme value`.
        let mut j = key_end;
        if matches!(bytes.get(j), Some(b'"' | b'\'')) {
            j += 1;
        }
        let skip_spaces = |mut j: usize| {
            while bytes.get(j) == Some(&b' ') {
                j += 1;
            }
            j
        };
        j = skip_spaces(j);
        let separator = bytes.get(j).copied().filter(|b| matches!(b, b'=' | b':'));
        if separator.is_some() {
            j = skip_spaces(j + 1);
        }
        let quote = bytes.get(j).copied().filter(|b| matches!(b, b'"' | b'\''));
        let quoted = quote.is_some();
        if quoted {
            j += 1;
        }
        let value = match quote {
            // A quoted value runs to its closing quote, spaces and all.
            Some(quote) => {
                let end = run_end(bytes, j, |b| b != quote);
                &text[j..end]
            }
            None => text[j..run_end(bytes, j, is_value_byte)].trim_end_matches('.'),
        };
        let certain = separator == Some(b'=') || (separator == Some(b':') && quoted);
        if !value.is_empty() && (certain || looks_secret(value)) && j > key_end {
            out.push_str(&text[copied..j]);
            out.push_str(REDACTED);
            copied = j + value.len();
            i = copied;
        } else {
            i = key_end;
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// Long runs of hex digits, and long base64 runs that mix digits, capitals and small letters;
/// a run holding `/` is judged whole and then piece by piece, so paths keep their words.
fn long_runs(text: &str) -> String {
    let bytes = text.as_bytes();
    let is_run_byte =
        |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'_' | b'-');
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if !is_run_byte(bytes[i]) {
            i += 1;
            continue;
        }
        let end = run_end(bytes, i, is_run_byte);
        let run = &text[i..end];
        if is_secret_run(run) {
            out.push_str(&text[copied..i]);
            out.push_str(REDACTED);
            copied = end;
        } else if run.contains('/') {
            let mut at = i;
            for piece in run.split('/') {
                if is_secret_run(piece) {
                    out.push_str(&text[copied..at]);
                    out.push_str(REDACTED);
                    copied = at + piece.len();
                }
                at += piece.len() + 1;
            }
        }
        i = end;
    }
    out.push_str(&text[copied..]);
    out
}

fn is_secret_run(run: &str) -> bool {
    let bytes = run.as_bytes();
    let hex = bytes.iter().all(u8::is_ascii_hexdigit);
    let mixed = bytes.iter().any(u8::is_ascii_digit)
        && bytes.iter().any(u8::is_ascii_uppercase)
        && bytes.iter().any(u8::is_ascii_lowercase);
    bytes.len() >= MIN_RUN && (hex || mixed)
}
