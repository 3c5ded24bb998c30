//! The physical layouts of Arrow columns, read into plain values: strings (Utf8,
//! LargeUtf8, Utf8View, or a Dictionary of them with any key width), numbers (any
//! float or integer type), bytes (Binary, LargeBinary, BinaryView), and lists (List,
//! LargeList, FixedSizeList) of numbers or of `Struct{x, y}`. A column of a layout that
//! cannot mean what is asked is an `Err` with the expected layout, which the caller
//! raises as a `TypeError`.

use std::collections::HashMap;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Decimal128Type, Float16Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type,
    UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{
    Array, ArrayRef, BinaryArray, BinaryViewArray, LargeBinaryArray, LargeStringArray, StringArray,
    StringViewArray,
};
use arrow_buffer::NullBuffer;
use arrow_schema::DataType;

/// What a column was expected to hold, for the `TypeError` of one that does not.
pub type Layout = &'static str;

pub const STRINGS: Layout = "strings (Utf8, LargeUtf8, Utf8View or a Dictionary of them)";
pub const NUMBERS: Layout = "numbers (a float, integer or decimal type)";
pub const INTEGERS: Layout = "integers";

/// A column of strings, whichever of the three string layouts.
#[derive(Clone, Copy)]
pub enum Strings<'a> {
    Utf8(&'a StringArray),
    Large(&'a LargeStringArray),
    View(&'a StringViewArray),
}

impl<'a> Strings<'a> {
    fn of(array: &'a dyn Array) -> Option<Self> {
        Some(match array.data_type() {
            DataType::Utf8 => Strings::Utf8(array.as_string::<i32>()),
            DataType::LargeUtf8 => Strings::Large(array.as_string::<i64>()),
            DataType::Utf8View => Strings::View(array.as_string_view()),
            _ => return None,
        })
    }

    #[inline]
    fn value(&self, i: usize) -> &'a str {
        match self {
            Strings::Utf8(a) => a.value(i),
            Strings::Large(a) => a.value(i),
            Strings::View(a) => a.value(i),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Strings::Utf8(a) => a.len(),
            Strings::Large(a) => a.len(),
            Strings::View(a) => a.len(),
        }
    }
}

/// A column of bytes, whichever of the three binary layouts.
pub enum Binaries<'a> {
    Small(&'a BinaryArray),
    Large(&'a LargeBinaryArray),
    View(&'a BinaryViewArray),
}

impl<'a> Binaries<'a> {
    pub fn of(array: &'a dyn Array) -> Option<Self> {
        Some(match array.data_type() {
            DataType::Binary => Binaries::Small(array.as_binary::<i32>()),
            DataType::LargeBinary => Binaries::Large(array.as_binary::<i64>()),
            DataType::BinaryView => Binaries::View(array.as_binary_view()),
            _ => return None,
        })
    }

    pub fn value(&self, i: usize) -> &'a [u8] {
        match self {
            Binaries::Small(a) => a.value(i),
            Binaries::Large(a) => a.value(i),
            Binaries::View(a) => a.value(i),
        }
    }
}

/// A string column as read: its texts directly, or a dictionary's keys into its texts.
pub enum StringColumn<'a> {
    Plain(Strings<'a>),
    Dictionary { keys: Vec<usize>, values: Strings<'a> },
}

impl<'a> StringColumn<'a> {
    pub fn of(array: &'a dyn Array) -> Result<Self, Layout> {
        if let Some(strings) = Strings::of(array) {
            return Ok(StringColumn::Plain(strings));
        }
        if let Some(dictionary) = array.as_any_dictionary_opt() {
            if let Some(values) = Strings::of(dictionary.values().as_ref()) {
                let mut keys = dictionary.normalized_keys();
                // A null key may hold any value: point it at a real entry.
                if let Some(nulls) = dictionary.keys().logical_nulls() {
                    for k in nulls.iter().enumerate().filter(|(_, valid)| !valid).map(|(k, _)| k) {
                        keys[k] = 0;
                    }
                }
                if keys.iter().any(|&k| k >= values.len()) {
                    return Err("a Dictionary whose keys are within its values");
                }
                return Ok(StringColumn::Dictionary { keys, values });
            }
        }
        Err(STRINGS)
    }

    #[inline]
    pub fn value(&self, i: usize) -> &'a str {
        match self {
            StringColumn::Plain(s) => s.value(i),
            StringColumn::Dictionary { keys, values } => values.value(keys[i]),
        }
    }
}

/// Texts of a column made distinct, and each row's index among them (a null row's
/// index is 0, the row is reported by the caller).
pub struct Interned<'a> {
    pub texts: Vec<&'a str>,
    pub index: Vec<i64>,
    /// The row where each text first occurs.
    pub first: Vec<usize>,
}

/// Up to this many distinct texts, a text is looked up by comparing it with each.
const FEW: usize = 16;

/// Every distinct text of `column` (few: features, answers), in order of first use.
pub fn intern<'a>(column: &StringColumn<'a>, rows: usize, nulls: Option<&NullBuffer>) -> Interned<'a> {
    let mut texts = Vec::new();
    let mut first = Vec::new();
    let mut index = Vec::with_capacity(rows);
    let mut seen: HashMap<&str, i64> = HashMap::new();
    let mut last: Option<(&str, i64)> = None;
    for i in 0..rows {
        if nulls.is_some_and(|n| n.is_null(i)) {
            index.push(0);
            continue;
        }
        let text = column.value(i);
        let k = match last {
            Some((t, k)) if t == text => k,
            // A few texts (classes) are found faster by comparing than by hashing.
            _ if texts.len() <= FEW => {
                if let Some(k) = texts.iter().position(|&t| t == text) {
                    k as i64
                } else {
                    seen.insert(text, texts.len() as i64);
                    texts.push(text);
                    first.push(i);
                    texts.len() as i64 - 1
                }
            }
            _ => *seen.entry(text).or_insert_with(|| {
                texts.push(text);
                first.push(i);
                texts.len() as i64 - 1
            }),
        };
        last = Some((text, k));
        index.push(k);
    }
    Interned { texts, index, first }
}

/// Calls `$body` with `$a` the column as a primitive array of each numeric type.
macro_rules! with_numbers {
    ($array:expr, $a:ident => $body:expr, $other:expr) => {
        match $array.data_type() {
            DataType::Float64 => {
                let $a = $array.as_primitive::<Float64Type>();
                $body
            }
            DataType::Float32 => {
                let $a = $array.as_primitive::<Float32Type>();
                $body
            }
            DataType::Int64 => {
                let $a = $array.as_primitive::<Int64Type>();
                $body
            }
            DataType::Int32 => {
                let $a = $array.as_primitive::<Int32Type>();
                $body
            }
            DataType::Int16 => {
                let $a = $array.as_primitive::<Int16Type>();
                $body
            }
            DataType::Int8 => {
                let $a = $array.as_primitive::<Int8Type>();
                $body
            }
            DataType::UInt64 => {
                let $a = $array.as_primitive::<UInt64Type>();
                $body
            }
            DataType::UInt32 => {
                let $a = $array.as_primitive::<UInt32Type>();
                $body
            }
            DataType::UInt16 => {
                let $a = $array.as_primitive::<UInt16Type>();
                $body
            }
            DataType::UInt8 => {
                let $a = $array.as_primitive::<UInt8Type>();
                $body
            }
            _ => $other,
        }
    };
}

/// The values of a numeric column as `f64` (a null slot gives whatever it holds).
/// Decimals (SQL's `DECIMAL`, DuckDB's number literals) are divided by their scale.
// `as f64` is a no-op for Float64, one arm of the macro.
#[allow(clippy::unnecessary_cast)]
pub fn floats(array: &dyn Array) -> Result<Vec<f64>, Layout> {
    match array.data_type() {
        DataType::Float16 => {
            return Ok(array
                .as_primitive::<Float16Type>()
                .values()
                .iter()
                .map(|v| half::f16::to_f64(*v))
                .collect());
        }
        &DataType::Decimal128(_, scale) => {
            let divisor = 10f64.powi(scale.into());
            let values = array.as_primitive::<Decimal128Type>().values();
            return Ok(values.iter().map(|&v| v as f64 / divisor).collect());
        }
        _ => {}
    }
    // As the numpy entrance converts them.
    with_numbers!(array, a => Ok(a.values().iter().map(|&v| v as f64).collect()), Err(NUMBERS))
}

/// The values of an integer column as `i64` (past `i64::MAX` saturates).
pub fn ints(array: &dyn Array) -> Result<Vec<i64>, Layout> {
    match array.data_type() {
        DataType::Float16 | DataType::Float32 | DataType::Float64 => Err(INTEGERS),
        _ => with_numbers!(
            array,
            a => Ok(a.values().iter().map(|&v| i64::try_from(v as i128).unwrap_or(i64::MAX)).collect()),
            Err(INTEGERS)
        ),
    }
}

/// A list column: row `i` is `child[offsets[i]..offsets[i + 1]]`, offsets from 0.
pub struct Lists {
    pub offsets: Vec<i64>,
    pub child: ArrayRef,
    /// The list entries that are null themselves.
    pub nulls: Option<NullBuffer>,
}

impl Lists {
    /// A List, LargeList or FixedSizeList column; `None` for any other.
    pub fn of(array: &dyn Array) -> Option<Lists> {
        let nulls = array.logical_nulls();
        let (offsets, child) = match array.data_type() {
            DataType::FixedSizeList(_, size) => {
                let list = array.as_fixed_size_list();
                let size = *size as i64;
                let offsets = (0..=list.len() as i64).map(|i| i * size).collect();
                (offsets, list.values().slice(0, list.len() * size as usize))
            }
            DataType::List(_) => {
                let list = array.as_list::<i32>();
                rebased(list.value_offsets().iter().map(|&o| o as i64), list.values())
            }
            DataType::LargeList(_) => {
                let list = array.as_list::<i64>();
                rebased(list.value_offsets().iter().copied(), list.values())
            }
            _ => return None,
        };
        Some(Lists { offsets, child, nulls })
    }

    pub fn rows(&self) -> usize {
        self.offsets.len() - 1
    }

    pub fn bounds(&self, i: usize) -> std::ops::Range<usize> {
        self.offsets[i] as usize..self.offsets[i + 1] as usize
    }
}

/// Offsets made to start at 0, and the child values they cover.
fn rebased(offsets: impl Iterator<Item = i64>, child: &ArrayRef) -> (Vec<i64>, ArrayRef) {
    let offsets: Vec<i64> = offsets.collect();
    let (first, last) = (offsets[0], offsets[offsets.len() - 1]);
    let child = child.slice(first as usize, (last - first) as usize);
    (offsets.into_iter().map(|o| o - first).collect(), child)
}

/// The `x` and `y` numbers of a struct column, and its null rows.
pub type Xy = (Vec<f64>, Vec<f64>, Option<NullBuffer>);

/// The `x` and `y` fields of a struct column, as numbers, and the rows where the
/// struct or either field is null.
pub fn xy(array: &dyn Array) -> Option<Result<Xy, Layout>> {
    let s = array.as_struct_opt()?;
    let (Some(x), Some(y)) = (s.column_by_name("x"), s.column_by_name("y")) else {
        return Some(Err("a Struct with fields x and y"));
    };
    let nulls = union(&[array.logical_nulls(), x.logical_nulls(), y.logical_nulls()]);
    Some(floats(x.as_ref()).and_then(|xs| Ok((xs, floats(y.as_ref())?, nulls))))
}

/// The rows null in any of `nulls`.
pub fn union(nulls: &[Option<NullBuffer>]) -> Option<NullBuffer> {
    nulls.iter().fold(None, |acc, n| NullBuffer::union(acc.as_ref(), n.as_ref()))
}
