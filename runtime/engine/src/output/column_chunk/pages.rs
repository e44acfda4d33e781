//! A column chunk's pages as bytes: compressed, with their headers, and read back in order by
//! the row group writer that splices them into the file.

use bytes::Bytes;
use parquet::column::page::{CompressedPage, PageWriteSpec, PageWriter};
use parquet::file::reader::{ChunkReader, Length};
use parquet::file::writer::{SerializedPageWriter, TrackedWrite};

use crate::error::{Result, RuntimeError};

/// The page's bytes, compressed, in a buffer of their size: a page stays in memory until its row
/// group ends, so the compressor's worst-case room is left in `scratch`.
pub(super) fn compress(
    compressor: Option<&mut zstd::bulk::Compressor<'static>>,
    body: &[u8],
    scratch: &mut Vec<u8>,
) -> Result<Bytes> {
    match compressor {
        None => Ok(Bytes::copy_from_slice(body)),
        Some(zstd) => {
            scratch.clear();
            scratch.reserve(zstd::zstd_safe::compress_bound(body.len()));
            zstd.compress_to_buffer(body, scratch)
                .map_err(|e| RuntimeError::Internal(format!("zstd could not compress a page: {e}")))?;
            Ok(Bytes::copy_from_slice(scratch))
        }
    }
}

/// A page with its header, as the file will hold it.
pub(super) fn serialize_page(page: CompressedPage) -> Result<(Bytes, PageWriteSpec)> {
    let mut sink = TrackedWrite::new(Vec::with_capacity(page.compressed_size() + 64));
    let spec = SerializedPageWriter::new(&mut sink).write_page(page)?;
    Ok((Bytes::from(sink.into_inner()?), spec))
}

/// A column chunk's pages, in order, as `append_column` reads them (from the start).
pub(crate) struct ColumnChunkPages {
    pub(super) pages: Vec<Bytes>,
}

impl Length for ColumnChunkPages {
    fn len(&self) -> u64 {
        self.pages.iter().map(|p| p.len() as u64).sum()
    }
}

impl ChunkReader for ColumnChunkPages {
    type T = PagesReader;

    fn get_read(&self, start: u64) -> parquet::errors::Result<PagesReader> {
        let mut reader = PagesReader { pages: self.pages.clone().into(), skip: start };
        reader.skip_to_start();
        Ok(reader)
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        let mut bytes = Vec::with_capacity(length);
        std::io::Read::read_to_end(&mut std::io::Read::take(self.get_read(start)?, length as u64), &mut bytes)?;
        if bytes.len() != length {
            return Err(parquet::errors::ParquetError::EOF(format!(
                "{length} bytes at {start} past a column chunk's end"
            )));
        }
        Ok(Bytes::from(bytes))
    }
}

/// Reads [`ColumnChunkPages`] as one run of bytes.
pub(crate) struct PagesReader {
    pages: std::collections::VecDeque<Bytes>,
    skip: u64,
}

impl PagesReader {
    fn skip_to_start(&mut self) {
        while let Some(page) = self.pages.front_mut() {
            if self.skip < page.len() as u64 {
                let _ = page.split_to(self.skip as usize);
                self.skip = 0;
                return;
            }
            self.skip -= page.len() as u64;
            self.pages.pop_front();
        }
    }
}

impl std::io::Read for PagesReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while let Some(page) = self.pages.front_mut() {
            if page.is_empty() {
                self.pages.pop_front();
                continue;
            }
            let n = page.len().min(out.len());
            out[..n].copy_from_slice(&page.split_to(n));
            return Ok(n);
        }
        Ok(0)
    }
}
