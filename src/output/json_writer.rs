//! A serde serializer that appends compact JSON to a `Vec<u8>`, byte for
//! byte what `serde_json::to_writer` produces, at a fraction of the cost on
//! netpeek's lines.
//!
//! serde_json writes token by token through `io::Write` and escapes each
//! string byte by byte; text produced by `Display` (addresses, times) is
//! escaped fragment by fragment as the formatter emits it. Here tokens are
//! pushed onto the buffer, strings are scanned eight bytes at a time for
//! the few bytes JSON escapes, and `Display` output is written straight
//! into the buffer, then checked once. Floats and anything rare go through
//! serde_json itself, so the text stays identical (tests compare the two on
//! every line netpeek writes).

use std::fmt::{self, Write as _};

use serde::ser::{self, Serialize};

pub type Error = serde_json::Error;

/// Appends `v` as compact JSON to `out`.
pub fn append<T: Serialize + ?Sized>(out: &mut Vec<u8>, v: &T) -> Result<(), Error> {
    v.serialize(Ser { out })
}

/// What a byte becomes inside a JSON string: 0 for itself, `u` for a
/// `\u00XX` escape, else the letter after the backslash.
const ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[0x08] = b'b';
    t[0x09] = b't';
    t[0x0a] = b'n';
    t[0x0c] = b'f';
    t[0x0d] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Whether any of the eight bytes in `w` is a control byte, `"` or `\`.
#[inline]
fn word_needs_escape(w: u64) -> bool {
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    // Bytes below 0x20 (a byte ≥ 0x80 can set a high bit here only
    // together with a real hit lower in the word, never alone).
    let below = w.wrapping_sub(ONES * 0x20) & !w & HIGHS;
    (below | has_zero(w ^ (ONES * u64::from(b'"'))) | has_zero(w ^ (ONES * u64::from(b'\\')))) != 0
}

/// Whether any byte of `s` must be escaped in a JSON string.
#[inline]
fn needs_escape(s: &[u8]) -> bool {
    if s.len() < 8 {
        return s.iter().any(|&b| ESCAPE[usize::from(b)] != 0);
    }
    let word = |c: &[u8]| u64::from_le_bytes(c.try_into().unwrap_or_default());
    let mut chunks = s.chunks_exact(8);
    if chunks.any(|c| word_needs_escape(word(c))) {
        return true;
    }
    // The last eight bytes (overlapping the words already seen).
    s.get(s.len() - 8..)
        .is_some_and(|c| word_needs_escape(word(c)))
}

/// Writes the inside of a JSON string (no quotes).
#[inline]
pub(crate) fn escape_into(out: &mut Vec<u8>, s: &[u8]) {
    if needs_escape(s) {
        escape_slow(out, s);
    } else {
        out.extend_from_slice(s);
    }
}

#[cold]
fn escape_slow(out: &mut Vec<u8>, s: &[u8]) {
    let mut start = 0;
    for (i, &b) in s.iter().enumerate() {
        let e = ESCAPE[usize::from(b)];
        if e == 0 {
            continue;
        }
        out.extend_from_slice(s.get(start..i).unwrap_or_default());
        if e == b'u' {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xf)]);
        } else {
            out.push(b'\\');
            out.push(e);
        }
        start = i + 1;
    }
    out.extend_from_slice(s.get(start..).unwrap_or_default());
}

/// A JSON string. (Always inlined: with one more caller LLVM stopped
/// inlining it into the packet and HTTP writers, +0.9 % instructions in
/// `--json`'s output thread.)
#[inline(always)]
pub fn str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    escape_into(out, s.as_bytes());
    out.push(b'"');
}

/// `fmt::Write` into the buffer (UTF-8 text only, so the buffer stays valid).
struct Text<'a>(&'a mut Vec<u8>);

impl fmt::Write for Text<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// Writes `v`'s `Display` text as a JSON string.
fn display_string<T: fmt::Display + ?Sized>(out: &mut Vec<u8>, v: &T) -> Result<(), Error> {
    out.push(b'"');
    let start = out.len();
    write!(Text(out), "{v}").map_err(|_| ser::Error::custom("a Display implementation failed"))?;
    if needs_escape(out.get(start..).unwrap_or_default()) {
        let raw = out.split_off(start);
        escape_into(out, &raw);
    }
    out.push(b'"');
    Ok(())
}

/// Hands one value to serde_json (floats and the rare types), so its text
/// is serde_json's own.
fn via_serde_json<T: Serialize + ?Sized>(out: &mut Vec<u8>, v: &T) -> Result<(), Error> {
    serde_json::to_writer(out, v)
}

/// A JSON number.
#[inline]
pub fn int<I: itoa::Integer>(out: &mut Vec<u8>, i: I) {
    out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes());
}

/// Appends the first `len` bytes of `text` with a copy of fixed size: the
/// compiler inlines it, where a copy of `len` bytes would call memcpy
/// (and JSON lines are made of many pieces a few bytes long).
#[inline]
fn put_first<const N: usize>(out: &mut Vec<u8>, text: &[u8; N], len: usize) {
    let start = out.len();
    out.extend_from_slice(text);
    out.truncate(start + len.min(N));
}

/// A JSON array of strings.
pub fn str_array<'a>(out: &mut Vec<u8>, items: impl IntoIterator<Item = &'a str>) {
    out.push(b'[');
    for (i, s) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        str(out, s);
    }
    out.push(b']');
}

/// Each octet's decimal digits, and how many there are.
const OCTETS: [([u8; 3], u8); 256] = {
    let mut t = [([0u8; 3], 0u8); 256];
    let mut i = 0;
    while i < 256 {
        let o = i as u8;
        t[i] = if o >= 100 {
            ([b'0' + o / 100, b'0' + (o / 10) % 10, b'0' + o % 10], 3)
        } else if o >= 10 {
            ([b'0' + o / 10, b'0' + o % 10, 0], 2)
        } else {
            ([b'0' + o, 0, 0], 1)
        };
        i += 1;
    }
    t
};

/// An IPv4 address as text, octet by octet from a table (the standard
/// `Display` pads and measures, and every line has addresses), at
/// `buf[at..]`; returns where the text ends. `buf` has room for three
/// bytes past the longest address: each octet is copied as its three
/// table bytes (a fixed-size copy), the next octet overwriting the unused.
fn v4_digits_at<const N: usize>(v4: std::net::Ipv4Addr, buf: &mut [u8; N], at: usize) -> usize {
    let mut n = at;
    for (i, o) in v4.octets().into_iter().enumerate() {
        let (digits, len) = &OCTETS[usize::from(o)];
        if i > 0 {
            if let Some(dot) = buf.get_mut(n) {
                *dot = b'.';
            }
            n += 1;
        }
        if let Some(dst) = buf.get_mut(n..n + 3) {
            dst.copy_from_slice(digits);
        }
        n += usize::from(*len);
    }
    n
}

/// [`v4_digits_at`] on its own.
fn v4_digits(v4: std::net::Ipv4Addr, buf: &mut [u8; 18]) -> &[u8] {
    let n = v4_digits_at(v4, buf, 0);
    buf.get(..n).unwrap_or_default()
}

/// An IP address as a JSON string.
pub fn ip(out: &mut Vec<u8>, a: &std::net::IpAddr) -> Result<(), Error> {
    match a {
        std::net::IpAddr::V4(v4) => {
            // `"`, at most 15 bytes of address, `"`, and the room
            // v4_digits_at needs.
            let mut text = [b'"'; 20];
            let end = v4_digits_at(*v4, &mut text, 1);
            if let Some(q) = text.get_mut(end) {
                *q = b'"';
            }
            put_first(out, &text, end + 1);
            Ok(())
        }
        std::net::IpAddr::V6(_) => display_string(out, a),
    }
}

/// `#[serde(serialize_with)]` for addresses: the text `IpAddr` serializes
/// to, made without the formatting machinery for IPv4.
pub fn serialize_ip<S: ser::Serializer>(a: &std::net::IpAddr, s: S) -> Result<S::Ok, S::Error> {
    match a {
        std::net::IpAddr::V4(v4) => {
            let mut buf = [0; 18];
            s.serialize_str(std::str::from_utf8(v4_digits(*v4, &mut buf)).unwrap_or_default())
        }
        std::net::IpAddr::V6(_) => a.serialize(s),
    }
}

/// The ten integer methods of a serializer, each handing its value to
/// `self.$with` (a number, or a number in quotes for a key).
macro_rules! serialize_integers {
    ($with:ident) => {
        fn serialize_i8(self, v: i8) -> Result<(), Error> {
            self.$with(v)
        }
        fn serialize_i16(self, v: i16) -> Result<(), Error> {
            self.$with(v)
        }
        fn serialize_i32(self, v: i32) -> Result<(), Error> {
            self.$with(v)
        }
        fn serialize_i64(self, v: i64) -> Result<(), Error> {
            self.$with(v)
        }
        fn serialize_i128(self, v: i128) -> Result<(), Error> {
            self.$with(v)
        }
        fn serialize_u8(self, v: u8) -> Result<(), Error> {
            self.$with(v)
        }
        fn serialize_u16(self, v: u16) -> Result<(), Error> {
            self.$with(v)
        }
        fn serialize_u32(self, v: u32) -> Result<(), Error> {
            self.$with(v)
        }
        fn serialize_u64(self, v: u64) -> Result<(), Error> {
            self.$with(v)
        }
        fn serialize_u128(self, v: u128) -> Result<(), Error> {
            self.$with(v)
        }
    };
}

/// The element and field methods of the compound serializers.
macro_rules! compound {
    ($trait:ident, $method:ident) => {
        impl ser::$trait for Compound<'_> {
            type Ok = ();
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
                self.element(v)
            }
            fn end(self) -> Result<(), Error> {
                self.close()
            }
        }
    };
    ($trait:ident, $method:ident, keyed) => {
        impl ser::$trait for Compound<'_> {
            type Ok = ();
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                v: &T,
            ) -> Result<(), Error> {
                self.field(key, v)
            }
            fn end(self) -> Result<(), Error> {
                self.close()
            }
        }
    };
}

struct Ser<'a> {
    out: &'a mut Vec<u8>,
}

impl Ser<'_> {
    #[inline]
    fn int<I: itoa::Integer>(self, v: I) -> Result<(), Error> {
        int(self.out, v);
        Ok(())
    }
}

/// An array or object being written: whether a separator comes next.
pub struct Compound<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
    /// Closing bytes: `]`, `}` or `}}` (a variant wraps its content).
    close: &'static [u8],
}

impl Compound<'_> {
    #[inline]
    fn sep(&mut self) {
        if self.first {
            self.first = false;
        } else {
            self.out.push(b',');
        }
    }

    /// A struct's field name: an identifier or a `rename` in netpeek's
    /// source, which JSON never escapes.
    #[inline]
    fn static_key(&mut self, key: &'static str) {
        debug_assert!(!needs_escape(key.as_bytes()), "field name {key:?}");
        self.sep();
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
    }
}

fn open<'a>(out: &'a mut Vec<u8>, open: &[u8], close: &'static [u8]) -> Compound<'a> {
    out.extend_from_slice(open);
    Compound {
        out,
        first: true,
        close,
    }
}

/// `{"variant":` before a variant's content.
fn variant_open(out: &mut Vec<u8>, variant: &str) {
    out.push(b'{');
    str(out, variant);
    out.push(b':');
}

impl<'a> ser::Serializer for Ser<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    serialize_integers!(int);

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        via_serde_json(self.out, &v)
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        via_serde_json(self.out, &v)
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        str(self.out, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        str(self.out, v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        // An array of numbers, as serde_json writes bytes.
        via_serde_json(self.out, v)
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<(), Error> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.serialize_none()
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        self.serialize_none()
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        str(self.out, variant);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        variant_open(self.out, variant);
        v.serialize(Ser {
            out: &mut *self.out,
        })?;
        self.out.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'a>, Error> {
        Ok(open(self.out, b"[", b"]"))
    }
    fn serialize_tuple(self, len: usize) -> Result<Compound<'a>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Compound<'a>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, Error> {
        variant_open(self.out, variant);
        Ok(open(self.out, b"[", b"]}"))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'a>, Error> {
        Ok(open(self.out, b"{", b"}"))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>, Error> {
        Ok(open(self.out, b"{", b"}"))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, Error> {
        variant_open(self.out, variant);
        Ok(open(self.out, b"{", b"}}"))
    }
    fn collect_str<T: fmt::Display + ?Sized>(self, v: &T) -> Result<(), Error> {
        display_string(self.out, v)
    }
}

impl Compound<'_> {
    #[inline]
    fn element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        self.sep();
        v.serialize(Ser {
            out: &mut *self.out,
        })
    }

    #[inline]
    fn field<T: Serialize + ?Sized>(&mut self, key: &'static str, v: &T) -> Result<(), Error> {
        self.static_key(key);
        v.serialize(Ser {
            out: &mut *self.out,
        })
    }

    fn close(self) -> Result<(), Error> {
        self.out.extend_from_slice(self.close);
        Ok(())
    }
}

compound!(SerializeSeq, serialize_element);
compound!(SerializeTuple, serialize_element);
compound!(SerializeTupleStruct, serialize_field);
compound!(SerializeTupleVariant, serialize_field);
compound!(SerializeStruct, serialize_field, keyed);
compound!(SerializeStructVariant, serialize_field, keyed);

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.sep();
        key.serialize(MapKey {
            out: &mut *self.out,
        })?;
        self.out.push(b':');
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        v.serialize(Ser {
            out: &mut *self.out,
        })
    }
    fn end(self) -> Result<(), Error> {
        self.close()
    }
}

/// Object keys: strings, and numbers, booleans and chars in quotes (as
/// serde_json allows them); anything else is an error, as there.
struct MapKey<'a> {
    out: &'a mut Vec<u8>,
}

fn key_must_be_a_string() -> Error {
    ser::Error::custom("key must be a string")
}

impl MapKey<'_> {
    fn quoted<I: itoa::Integer>(self, i: I) -> Result<(), Error> {
        self.out.push(b'"');
        int(self.out, i);
        self.out.push(b'"');
        Ok(())
    }

    fn float(self, v: f64) -> Result<(), Error> {
        if !v.is_finite() {
            return Err(ser::Error::custom(
                "float key must be finite (got NaN or +/-inf)",
            ));
        }
        self.out.push(b'"');
        via_serde_json(self.out, &v)?;
        self.out.push(b'"');
        Ok(())
    }
}

impl ser::Serializer for MapKey<'_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = ser::Impossible<(), Error>;
    type SerializeTuple = ser::Impossible<(), Error>;
    type SerializeTupleStruct = ser::Impossible<(), Error>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = ser::Impossible<(), Error>;
    type SerializeStruct = ser::Impossible<(), Error>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    serialize_integers!(quoted);

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.out
            .extend_from_slice(if v { b"\"true\"" } else { b"\"false\"" });
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        self.float(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        self.float(v)
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        str(self.out, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        str(self.out, v);
        Ok(())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_none(self) -> Result<(), Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<(), Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_unit(self) -> Result<(), Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        str(self.out, variant);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(key_must_be_a_string())
    }
    fn collect_str<T: fmt::Display + ?Sized>(self, v: &T) -> Result<(), Error> {
        display_string(self.out, v)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::net::{IpAddr, Ipv6Addr};

    use proptest::prelude::*;
    use serde::Serialize;

    use super::*;

    fn same<T: Serialize + ?Sized>(v: &T) -> String {
        let mut ours = Vec::new();
        let theirs = serde_json::to_vec(v);
        let mine = append(&mut ours, v);
        match (mine, theirs) {
            (Ok(()), Ok(t)) => {
                assert_eq!(String::from_utf8_lossy(&ours), String::from_utf8_lossy(&t));
                String::from_utf8(ours).unwrap()
            }
            (Err(a), Err(b)) => {
                assert_eq!(a.to_string(), b.to_string());
                String::new()
            }
            (a, b) => panic!("one failed: ours {a:?}, serde_json {:?}", b.map(|_| ())),
        }
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let all: String = (0u8..0x80).map(char::from).collect();
        same(&all);
        assert_eq!(
            same("a\"b\\c\n\t\u{1}\u{7f}é☃"),
            "\"a\\\"b\\\\c\\n\\t\\u0001\u{7f}é☃\""
        );
        // An escape at every position around the eight-byte words.
        for len in 0..40 {
            for at in 0..len {
                for c in ['"', '\\', '\n', '\u{0}', '\u{1f}'] {
                    let s: String = (0..len).map(|i| if i == at { c } else { 'x' }).collect();
                    same(&s);
                }
            }
        }
        // Bytes ≥ 0x80 next to bytes just above 0x20 are not escapes.
        same("\u{20}\u{21}\u{80}ÿ\u{20}\u{20}\u{20}\u{20}\u{20}\u{20}ÿÿÿÿ!!!!");
    }

    #[test]
    fn display_text_is_written_once_and_escaped_when_needed() {
        struct Quoted;
        impl fmt::Display for Quoted {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("say \"hi\"\n")
            }
        }
        #[derive(Serialize)]
        struct S {
            #[serde(serialize_with = "collect")]
            q: (),
            ip: IpAddr,
            ip6: Ipv6Addr,
        }
        fn collect<Z: serde::Serializer>(_: &(), s: Z) -> Result<Z::Ok, Z::Error> {
            s.collect_str(&Quoted)
        }
        let out = same(&S {
            q: (),
            ip: "192.168.251.1".parse().unwrap(),
            ip6: "fe80::1".parse().unwrap(),
        });
        assert_eq!(
            out,
            r#"{"q":"say \"hi\"\n","ip":"192.168.251.1","ip6":"fe80::1"}"#
        );
    }

    #[test]
    fn every_shape_serde_derives_matches() {
        #[derive(Serialize)]
        enum E {
            Unit,
            New(u8),
            Tuple(u8, &'static str),
            Struct { a: i64 },
        }
        #[derive(Serialize)]
        struct Inner {
            x: u16,
            #[serde(skip_serializing_if = "Option::is_none")]
            y: Option<u16>,
        }
        #[derive(Serialize)]
        struct Outer {
            #[serde(rename = "@timestamp")]
            t: &'static str,
            #[serde(flatten)]
            inner: Inner,
            e: Vec<E>,
            nested: Vec<Vec<u8>>,
            empty: Vec<u8>,
            map: BTreeMap<u32, bool>,
            none: Option<u8>,
            unit: (),
            tuple: (u8, char, bool),
            floats: [f64; 5],
            big: (u128, i128, i8, i16, i32, u64),
        }
        same(&Outer {
            t: "2026-11-27T05:06:52.671921000Z",
            inner: Inner { x: 7, y: None },
            e: vec![E::Unit, E::New(1), E::Tuple(2, "b"), E::Struct { a: -3 }],
            nested: vec![vec![], vec![1, 2]],
            empty: vec![],
            map: BTreeMap::from([(1, true), (20, false)]),
            none: None,
            unit: (),
            tuple: (255, '"', false),
            floats: [0.5, -1e300, f64::NAN, f64::INFINITY, 3.0],
            big: (u128::MAX, i128::MIN, i8::MIN, -1, i32::MAX, u64::MAX),
        });
        same(&BTreeMap::from([(-5i64, 1), (3, 2)]));
        same(&BTreeMap::from([('k', 1)]));
        same(&BTreeMap::from([(true, 1)]));
        same(&serde_json::json!({"a": [1, 2.5, null, "x"], "b": {"c": -1}}));
        same(&BTreeMap::from([((1, 2), 1)])); // an error in both
        same(&serde_bytes_like());
    }

    fn serde_bytes_like() -> impl Serialize {
        struct B;
        impl Serialize for B {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(b"\x00\xff")
            }
        }
        B
    }

    proptest! {
        #[test]
        fn any_text_matches(s in any::<String>(), bytes in proptest::collection::vec(0u8..0x7f, 0..64)) {
            same(&s);
            same(&String::from_utf8(bytes).unwrap());
        }

        #[test]
        fn addresses_match(v4 in any::<[u8; 4]>(), v6 in any::<[u16; 8]>()) {
            for a in [IpAddr::from(v4), IpAddr::from(v6), IpAddr::from(std::net::Ipv4Addr::from(v4).to_ipv6_mapped())] {
                let mut ours = Vec::new();
                ip(&mut ours, &a).unwrap();
                prop_assert_eq!(String::from_utf8(ours).unwrap(), serde_json::to_string(&a).unwrap());
                #[derive(Serialize)]
                struct Wrapped(#[serde(serialize_with = "serialize_ip")] IpAddr);
                prop_assert_eq!(serde_json::to_string(&Wrapped(a)).unwrap(), serde_json::to_string(&a).unwrap());
            }
        }
    }
}
