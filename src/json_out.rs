//! JSON as sigscope writes it (stdout reports, files): registry-supplied strings can carry
//! code points that are valid JSON but act on a terminal or a reader — C1 controls (U+009B is
//! an 8-bit CSI), DEL, bidi embeddings, overrides, isolates and marks, the Unicode line
//! separators — and serde_json escapes only C0. These are written as `\uXXXX`, so the output
//! is plain ASCII wherever it could be hostile and parses back to the very same strings.
//!
//! Use these helpers (not `serde_json::to_*`) for every JSON the tool writes.

use std::io::{self, BufWriter, Write};

use serde::Serialize;
use serde_json::ser::{CharEscape, CompactFormatter, Formatter, PrettyFormatter};

/// Code points escaped on top of serde_json's own (C0, `"` and `\`). The same set as
/// [`crate::sanitize`] hides from terminals, plus U+061C (Arabic letter mark, a bidi control).
pub fn needs_escape(c: char) -> bool {
    matches!(c,
        '\u{7f}'..='\u{9f}'            // DEL and C1
        | '\u{61c}'                    // arabic letter mark
        | '\u{200b}'..='\u{200f}'      // zero-width characters, LRM, RLM
        | '\u{2028}'..='\u{202e}'      // line and paragraph separators, embeddings and overrides
        | '\u{2060}'..='\u{2069}'      // invisible operators, isolates
        | '\u{feff}') // byte order mark / zero-width no-break space
}

/// A serde_json formatter that escapes [`needs_escape`] code points inside strings (keys
/// included) and otherwise formats exactly as the formatter it wraps.
pub struct SafeFormatter<F> {
    inner: F,
}

impl<F> SafeFormatter<F> {
    pub fn new(inner: F) -> Self {
        SafeFormatter { inner }
    }
}

/// Writes `fragment`, escaping what [`needs_escape`] names. Every escaped code point is in the
/// Basic Multilingual Plane, so one `\uXXXX` each.
fn write_safe_fragment<W: ?Sized + Write>(writer: &mut W, fragment: &str) -> io::Result<()> {
    let mut start = 0;
    for (i, c) in fragment.char_indices() {
        if needs_escape(c) {
            writer.write_all(&fragment.as_bytes()[start..i])?;
            write!(writer, "\\u{:04x}", c as u32)?;
            start = i + c.len_utf8();
        }
    }
    writer.write_all(&fragment.as_bytes()[start..])
}

/// Every method delegates, so the wrapped formatter's layout (pretty or compact) is kept;
/// only string fragments are filtered.
macro_rules! delegate {
    ($($name:ident($($arg:ident: $ty:ty),*);)*) => {
        $(
            #[inline]
            fn $name<W: ?Sized + Write>(&mut self, writer: &mut W $(, $arg: $ty)*) -> io::Result<()> {
                self.inner.$name(writer $(, $arg)*)
            }
        )*
    };
}

impl<F: Formatter> Formatter for SafeFormatter<F> {
    delegate! {
        write_null();
        write_bool(value: bool);
        write_i8(value: i8);
        write_i16(value: i16);
        write_i32(value: i32);
        write_i64(value: i64);
        write_i128(value: i128);
        write_u8(value: u8);
        write_u16(value: u16);
        write_u32(value: u32);
        write_u64(value: u64);
        write_u128(value: u128);
        write_f32(value: f32);
        write_f64(value: f64);
        write_number_str(value: &str);
        begin_string();
        end_string();
        write_char_escape(char_escape: CharEscape);
        write_byte_array(value: &[u8]);
        begin_array();
        end_array();
        begin_array_value(first: bool);
        end_array_value();
        begin_object();
        end_object();
        begin_object_key(first: bool);
        end_object_key();
        begin_object_value();
        end_object_value();
        write_raw_fragment(fragment: &str);
    }

    fn write_string_fragment<W: ?Sized + Write>(&mut self, writer: &mut W, fragment: &str) -> io::Result<()> {
        write_safe_fragment(writer, fragment)
    }
}

/// Pretty JSON (two-space indent, as serde_json's) into `writer`, through one buffer: the
/// serializer makes many small writes, a locked stdout would turn each line into a syscall.
pub fn to_writer_pretty<W: Write, T: Serialize + ?Sized>(writer: W, value: &T) -> serde_json::Result<()> {
    let mut buffered = BufWriter::with_capacity(64 * 1024, writer);
    let mut ser = serde_json::Serializer::with_formatter(&mut buffered, SafeFormatter::new(PrettyFormatter::new()));
    value.serialize(&mut ser)?;
    buffered.flush().map_err(serde_json::Error::io)
}

/// Compact JSON into `writer`, buffered as [`to_writer_pretty`].
pub fn to_writer<W: Write, T: Serialize + ?Sized>(writer: W, value: &T) -> serde_json::Result<()> {
    let mut buffered = BufWriter::with_capacity(64 * 1024, writer);
    let mut ser = serde_json::Serializer::with_formatter(&mut buffered, SafeFormatter::new(CompactFormatter));
    value.serialize(&mut ser)?;
    buffered.flush().map_err(serde_json::Error::io)
}

pub fn to_vec_pretty<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(256);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, SafeFormatter::new(PrettyFormatter::new()));
    value.serialize(&mut ser)?;
    Ok(out)
}

pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(128);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, SafeFormatter::new(CompactFormatter));
    value.serialize(&mut ser)?;
    Ok(out)
}

pub fn to_string_pretty<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    to_vec_pretty(value).map(utf8)
}

pub fn to_string<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    to_vec(value).map(utf8)
}

/// The serializer writes whole UTF-8 fragments and ASCII escapes only.
fn utf8(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).expect("JSON output is UTF-8")
}

/// An error of the helpers as an I/O error, keeping the kind of a write failure (a closed
/// pipe stays `BrokenPipe`, which callers treat as "the reader went away").
pub fn io_error(e: serde_json::Error) -> io::Error {
    io::Error::from(e)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn every_escaped() -> Vec<char> {
        (0u32..=0x10ffff).filter_map(char::from_u32).filter(|&c| needs_escape(c)).collect()
    }

    #[test]
    fn escapes_c1_del_bidi_and_separators_in_values_and_keys() {
        let hostile: String = every_escaped().into_iter().collect();
        for c in ['\u{9b}', '\u{7f}', '\u{85}', '\u{202e}', '\u{200e}', '\u{2066}', '\u{61c}', '\u{2028}', '\u{2029}'] {
            assert!(hostile.contains(c), "{c:?} escaped");
        }
        let mut map = BTreeMap::new();
        map.insert(format!("key{hostile}"), format!("value{hostile}\u{1b}[2J"));
        for out in [to_string(&map).unwrap(), to_string_pretty(&map).unwrap()] {
            assert!(out.is_ascii(), "every hostile code point is escaped: {out:?}");
            assert!(out.contains("\\u009b") && out.contains("\\u202e") && out.contains("\\u007f"), "{out}");
            let back: BTreeMap<String, String> = serde_json::from_str(&out).unwrap();
            assert_eq!(back, map, "round trip");
        }
    }

    #[test]
    fn formats_everything_else_as_serde_json_does() {
        let v = serde_json::json!({
            "a": [1, -2, 3.5, true, null, "ünïcödé ✓ 🦀", "tab\tquote\"back\\slash"],
            "b": {"c": {}, "d": []},
            "e": u64::MAX,
        });
        assert_eq!(to_string_pretty(&v).unwrap(), serde_json::to_string_pretty(&v).unwrap());
        assert_eq!(to_string(&v).unwrap(), serde_json::to_string(&v).unwrap());
        let mut buf = Vec::new();
        to_writer_pretty(&mut buf, &v).unwrap();
        assert_eq!(buf, serde_json::to_vec_pretty(&v).unwrap());
        let mut buf = Vec::new();
        to_writer(&mut buf, &v).unwrap();
        assert_eq!(buf, serde_json::to_vec(&v).unwrap());
    }

    #[test]
    fn a_closed_pipe_stays_a_closed_pipe() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let e = to_writer_pretty(Closed, &serde_json::json!({"a": 1})).unwrap_err();
        assert_eq!(io_error(e).kind(), io::ErrorKind::BrokenPipe);
    }
}
