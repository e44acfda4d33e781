//! The Parquet encodings the column chunk encoders write by hand: bit packing, the RLE /
//! bit-packing hybrid (definition levels, dictionary indices), `DELTA_BINARY_PACKED` (integers,
//! dates, and the lengths of `DELTA_BYTE_ARRAY`), and the varints they are made of.

/// Values per block and per miniblock of `DELTA_BINARY_PACKED` (the usual choice).
pub(super) const DELTA_BLOCK: usize = 128;
pub(super) const DELTA_MINIBLOCK: usize = 32;

/// The bits needed to write `max`.
pub(super) fn bit_width(max: u64) -> u8 {
    (64 - max.leading_zeros()) as u8
}

/// Appends `value` as an unsigned LEB128 varint.
pub(super) fn uleb128(mut value: u64, out: &mut Vec<u8>) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

pub(super) fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

/// Appends `values` packed `width` bits each, least significant bit first (Parquet's order).
/// Callers pass a multiple of eight values, so the bits fill whole bytes.
pub(super) fn bit_pack(values: impl Iterator<Item = u64>, width: u8, out: &mut Vec<u8>) {
    if width == 0 {
        return;
    }
    let width = u32::from(width);
    let mask = if width == 64 { u64::MAX } else { (1u64 << width) - 1 };
    out.reserve(values.size_hint().0 * width as usize / 8 + 8);
    // `acc` holds the `bits` low bits not yet written; a value that does not fit whole is split
    // between the word it completes and the next.
    let mut acc = 0u64;
    let mut bits = 0u32;
    for value in values {
        let value = value & mask;
        acc |= value << bits;
        let total = bits + width;
        if total >= 64 {
            out.extend_from_slice(&acc.to_le_bytes());
            acc = if bits == 0 { 0 } else { value >> (64 - bits) };
            bits = total - 64;
        } else {
            bits = total;
        }
    }
    out.extend_from_slice(&acc.to_le_bytes()[..bits.div_ceil(8) as usize]);
}

/// Appends `values` in Parquet's RLE / bit-packing hybrid encoding, `width` bits each: runs of
/// at least eight equal values as RLE runs, the rest bit-packed in groups of eight (at most 63
/// groups per run, which every reader accepts).
pub(super) fn rle_hybrid<T: Copy + Into<u64> + PartialEq>(values: &[T], width: u8, out: &mut Vec<u8>) {
    let value_bytes = usize::from(width).div_ceil(8);
    let run_at = |i: usize| values[i..].iter().take_while(|&&v| v == values[i]).count();
    let mut i = 0;
    while i < values.len() {
        let run = run_at(i);
        if run >= 8 {
            uleb128((run as u64) << 1, out);
            out.extend_from_slice(&values[i].into().to_le_bytes()[..value_bytes]);
            i += run;
            continue;
        }
        // Bit-packed groups until a run of eight starts at a group's boundary.
        let start = i;
        let mut groups = 0u64;
        loop {
            groups += 1;
            i += 8;
            if i >= values.len() || groups == 63 || run_at(i) >= 8 {
                break;
            }
        }
        uleb128((groups << 1) | 1, out);
        let end = i.min(values.len());
        let padding = (groups as usize * 8) - (end - start);
        bit_pack(values[start..end].iter().map(|&v| v.into()).chain(std::iter::repeat_n(0, padding)), width, out);
    }
}

/// Appends `values` in `DELTA_BINARY_PACKED` encoding: blocks of [`DELTA_BLOCK`] deltas, each
/// with its least delta and [`DELTA_MINIBLOCK`]-value miniblocks of their own bit width. 32-bit
/// columns take deltas in 32-bit wrapping arithmetic, so that no width exceeds 32 bits.
pub(super) fn delta_binary_packed(values: &[i64], int32: bool, out: &mut Vec<u8>) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU was just checked to have AVX2, the only feature the function enables.
        return unsafe { delta_binary_packed_avx2(values, int32, out) };
    }
    delta_binary_packed_with(values, int32, out);
}

/// [`delta_binary_packed`] where AVX2 may be used: the blocks' least deltas, offsets and widths
/// are folds over 64-bit values, which the baseline x86-64 target cannot vectorise (it has no
/// 64-bit comparison), and they are a large part of the page encoding's time.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn delta_binary_packed_avx2(values: &[i64], int32: bool, out: &mut Vec<u8>) {
    delta_binary_packed_with(values, int32, out);
}

#[inline(always)]
fn delta_binary_packed_with(values: &[i64], int32: bool, out: &mut Vec<u8>) {
    uleb128(DELTA_BLOCK as u64, out);
    uleb128((DELTA_BLOCK / DELTA_MINIBLOCK) as u64, out);
    uleb128(values.len() as u64, out);
    uleb128(zigzag(values.first().copied().unwrap_or(0)), out);
    let mut deltas = [0i64; DELTA_BLOCK];
    let mut rest = values.get(1..).unwrap_or_default();
    let mut previous = values.first().copied().unwrap_or(0);
    while !rest.is_empty() {
        let n = rest.len().min(DELTA_BLOCK);
        for (delta, &value) in deltas.iter_mut().zip(&rest[..n]) {
            *delta = if int32 {
                i64::from((value as i32).wrapping_sub(previous as i32))
            } else {
                value.wrapping_sub(previous)
            };
            previous = value;
        }
        rest = &rest[n..];
        let block = &deltas[..n];
        // A fold on the values vectorises; `Iterator::min` compares through a function per value.
        let min = block.iter().fold(i64::MAX, |a, &d| a.min(d));
        uleb128(zigzag(min), out);
        let offset = |d: i64| -> u64 {
            if int32 { u64::from((d as i32).wrapping_sub(min as i32) as u32) } else { d.wrapping_sub(min) as u64 }
        };
        // Padding past the block's last delta packs as zeros.
        let mut offsets = [0u64; DELTA_BLOCK];
        for (o, &d) in offsets.iter_mut().zip(block) {
            *o = offset(d);
        }
        let used = n.div_ceil(DELTA_MINIBLOCK);
        let mut widths = [0u8; DELTA_BLOCK / DELTA_MINIBLOCK];
        for (width, miniblock) in widths.iter_mut().zip(offsets.chunks(DELTA_MINIBLOCK)).take(used) {
            *width = bit_width(miniblock.iter().fold(0, |a, &b| a | b));
        }
        out.extend_from_slice(&widths);
        for (miniblock, &width) in offsets.chunks(DELTA_MINIBLOCK).zip(&widths).take(used) {
            bit_pack(miniblock.iter().copied(), width, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_width_counts_bits() {
        assert_eq!(bit_width(0), 0);
        assert_eq!(bit_width(1), 1);
        assert_eq!(bit_width(15), 4);
        assert_eq!(bit_width(16), 5);
        assert_eq!(bit_width(u64::MAX), 64);
    }

    #[test]
    fn rle_hybrid_uses_runs_and_groups() {
        let mut out = Vec::new();
        rle_hybrid(&[1u8; 10], 1, &mut out);
        // One RLE run of ten: header 10 << 1, then the value in one byte.
        assert_eq!(out, [20, 1]);
        out.clear();
        rle_hybrid(&[1u8, 0, 1, 0], 1, &mut out);
        // One bit-packed group (header 1 << 1 | 1), values LSB first, zero padding.
        assert_eq!(out, [3, 0b0101]);
    }

    #[test]
    fn bit_pack_matches_a_bit_by_bit_packing_at_every_width() {
        let mut next = etr_interp::test_support::xorshift(0x9E37_79B9_7F4A_7C15u64);
        for width in 1..=64u8 {
            let values: Vec<u64> = (0..40).map(|_| next()).collect();
            let mut expected = vec![0u8; (values.len() * usize::from(width)).div_ceil(8)];
            for (i, value) in values.iter().enumerate() {
                for bit in 0..usize::from(width) {
                    if value >> bit & 1 == 1 {
                        let at = i * usize::from(width) + bit;
                        expected[at / 8] |= 1 << (at % 8);
                    }
                }
            }
            let mut out = Vec::new();
            bit_pack(values.iter().copied(), width, &mut out);
            assert_eq!(out, expected, "width {width}");
        }
    }

    #[test]
    fn bit_pack_is_lsb_first() {
        let mut out = Vec::new();
        bit_pack([1u64, 2, 3, 4, 5, 6, 7, 0].into_iter(), 3, &mut out);
        // 1 | 2<<3 | 3<<6 | 4<<9 | 5<<12 | 6<<15 | 7<<18 | 0<<21, over three bytes.
        let packed: u32 = 1 | 2 << 3 | 3 << 6 | 4 << 9 | 5 << 12 | 6 << 15 | 7 << 18;
        assert_eq!(out, packed.to_le_bytes()[..3]);
    }
}
