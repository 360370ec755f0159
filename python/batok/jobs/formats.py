"""What a job can write, and its defaults: no imports, so the CLI can offer them without numpy."""

FORMATS = ("parquet", "llmc", "npy")
#: Tokens per output shard (llm.c's fineweb script writes shards of 10**8 tokens).
DEFAULT_SHARD_SIZE = 10**8
#: Parquet output's compression codecs ("none": uncompressed), snappy by default as in Arrow.
PARQUET_COMPRESSIONS = ("snappy", "zstd", "lz4", "gzip", "none")
