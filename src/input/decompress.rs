//! Opening an input file, decompressed by its extension (`.gz`, `.zst`).

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;

/// Large reads: the inputs are read once, front to back.
const BUFFER: usize = 1 << 20;

/// `path`'s bytes, decompressed when its name ends in `.gz` (gzip, any number of members, as
/// `gzip -c a b >` writes them) or `.zst` (zstd, any number of frames).
pub fn open(path: &Path) -> io::Result<Box<dyn BufRead + Send>> {
    let file = File::open(path)?;
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    Ok(match ext {
        "gz" => Box::new(BufReader::with_capacity(
            BUFFER,
            flate2::read::MultiGzDecoder::new(BufReader::with_capacity(BUFFER, file)),
        )),
        "zst" => Box::new(BufReader::with_capacity(
            BUFFER,
            zstd::stream::read::Decoder::new(file)?,
        )),
        _ => Box::new(BufReader::with_capacity(BUFFER, file)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn read_all(path: &Path) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        open(path)?.read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn compressed_files_read_as_their_content() {
        let dir = crate::input::TestDir::new("decompress");
        let data = b"{\"text\": \"hello\"}\n".repeat(1000);

        let plain = dir.join("a.jsonl");
        std::fs::write(&plain, &data).unwrap();
        assert_eq!(read_all(&plain).unwrap(), data);

        // Two gzip members back to back, as concatenated .gz files are.
        let gz = dir.join("a.jsonl.gz");
        let mut bytes = Vec::new();
        for half in data.chunks(data.len() / 2) {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(half).unwrap();
            bytes.extend(e.finish().unwrap());
        }
        std::fs::write(&gz, bytes).unwrap();
        assert_eq!(read_all(&gz).unwrap(), data);

        let zst = dir.join("a.jsonl.zst");
        std::fs::write(&zst, zstd::encode_all(&data[..], 3).unwrap()).unwrap();
        assert_eq!(read_all(&zst).unwrap(), data);
    }

    #[test]
    fn corrupt_compressed_file_is_an_error() {
        let dir = crate::input::TestDir::new("corrupt");
        let gz = dir.join("bad.jsonl.gz");
        std::fs::write(&gz, b"this is not gzip").unwrap();
        assert!(read_all(&gz).is_err());
    }
}
