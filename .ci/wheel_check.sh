#!/usr/bin/env bash
# The wheel as users get it. `pip wheel .` builds one wheel; it must be tagged
# cp310-abi3-manylinux*, and auditwheel must agree that its glibc needs allow that tag. Then it
# is installed into fresh CPython 3.10 and 3.13 environments with no Rust toolchain on PATH,
# where the README's quick start and its Llama-2 example (served by the wheel's own loopback
# test hub, as a gated repo) must print what tiktoken and Hugging Face `tokenizers` print.
#
# Usage: .ci/wheel_check.sh [WHEEL]. Without WHEEL it builds one. The calling Python (PYTHON,
# default `python`) needs pip, tiktoken and tokenizers (the `test` extra), for the expected ids;
# auditwheel is installed into its environment.
# Tokenizer files come from ../shared beside the checkout (BATOK_SHARED overrides).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python}
SHARED=${BATOK_SHARED:-../shared}
MAX_WHEEL_BYTES=5000000
ARCH=$(uname -m)

fail() {
    echo "wheel check: $*" >&2
    exit 1
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# An interpreter for CPython $1 (like 3.10): pyenv's, else pythonX.Y on PATH.
find_python() {
    local version=$1 candidate=""
    if command -v pyenv >/dev/null 2>&1; then
        local prefix
        if prefix=$(pyenv prefix "$version" 2>/dev/null); then
            candidate="$prefix/bin/python$version"
        fi
    fi
    if [ -z "$candidate" ] || [ ! -x "$candidate" ]; then
        candidate=$(command -v "python$version" || true)
    fi
    if [ -n "$candidate" ] &&
        "$candidate" -c "import sys; sys.exit(sys.version_info[:2] != tuple(map(int, '$version'.split('.'))))" 2>/dev/null; then
        echo "$candidate"
        return
    fi
    fail "no CPython $version found (install it, e.g. \`pyenv install $version\`); the wheel must be tried on it"
}

PY310=$(find_python 3.10)
PY313=$(find_python 3.13)
[ -f "$SHARED/tokenizers/llama-2/tokenizer.json" ] || fail "no $SHARED/tokenizers/llama-2 (set BATOK_SHARED)"
SHARED=$(cd "$SHARED" && pwd)

# ---- the wheel --------------------------------------------------------------------------------
if [ $# -ge 1 ]; then
    wheel=$(realpath "$1")
else
    start=$SECONDS
    "$PYTHON" -m pip wheel . --no-deps --wheel-dir "$work/dist" >"$work/build.log" 2>&1 ||
        { cat "$work/build.log" >&2; fail "pip wheel . failed"; }
    echo "wheel check: built in $((SECONDS - start)) s"
    wheel=$(ls "$work"/dist/batok-*.whl)
fi
name=$(basename "$wheel")
case "$name" in
    batok-*-cp310-abi3-manylinux*_"$ARCH".whl) ;;
    *) fail "$name is not a cp310-abi3 manylinux wheel" ;;
esac

# auditwheel reads the glibc symbol versions the extension needs and names the oldest manylinux
# that has them all; no manylinux tag the wheel claims may be older.
"$PYTHON" -m pip install --quiet --disable-pip-version-check auditwheel
audit=$("$PYTHON" -m auditwheel show "$wheel" | tr -s ' \n' '  ')
read -r need_major need_minor < <(sed -n \
    's/.*consistent with the following platform tag: "manylinux_\([0-9]*\)_\([0-9]*\)_.*/\1 \2/p' \
    <<<"$audit") || fail "auditwheel finds no manylinux tag for $name: $audit"
while read -r major minor; do
    if ((major < need_major || (major == need_major && minor < need_minor))); then
        fail "$name claims glibc $major.$minor, but its symbols need glibc $need_major.$need_minor"
    fi
done < <(grep -o 'manylinux_[0-9]*_[0-9]*\|manylinux2014' <<<"$name" |
    sed 's/manylinux2014/2 17/; s/manylinux_\([0-9]*\)_\([0-9]*\)/\1 \2/')

size=$(stat -c %s "$wheel")
((size < MAX_WHEEL_BYTES)) || fail "$name is $size bytes, over $MAX_WHEEL_BYTES"
"$PYTHON" - "$wheel" <<'EOF' || fail "the wheel lacks py.typed or the stub"
import sys, zipfile
names = set(zipfile.ZipFile(sys.argv[1]).namelist())
sys.exit(not {"batok/py.typed", "batok/_batok.pyi"} <= names)
EOF
echo "wheel check: $name, $(awk "BEGIN { printf \"%.2f\", $size / 1e6 }") MB;" \
    "auditwheel: manylinux_${need_major}_${need_minor}"

# ---- what the wheel must print, from the reference libraries ------------------------------------
expected_quick=$("$PYTHON" - "$SHARED" <<'EOF'
import json, sys
import tiktoken
import tiktoken_ext.openai_public as openai_public
from tiktoken.load import load_tiktoken_bpe

# tiktoken's own o200k_base definition, with the rank file read from disk instead of the network.
ranks = f"{sys.argv[1]}/tokenizers/tiktoken/o200k_base.tiktoken"
openai_public.load_tiktoken_bpe = lambda *args, **kwargs: load_tiktoken_bpe(ranks)
enc = tiktoken.Encoding(**openai_public.o200k_base())
print(json.dumps(enc.encode("Hello world!", disallowed_special=())))
EOF
)
expected_llama=$("$PYTHON" - "$SHARED" <<'EOF'
import sys
from tokenizers import Tokenizer

tok = Tokenizer.from_file(f"{sys.argv[1]}/tokenizers/llama-2/tokenizer.json")
print(tok.encode("Hello world!").ids)
EOF
)

# ---- the Llama-2 repo, gated, as the README's example expects it ------------------------------
hub_root=$work/hub
repo_dir=$hub_root/meta-llama/Llama-2-7b-ba
mkdir -p "$repo_dir"
cp "$SHARED/tokenizers/llama-2/tokenizer.json" "$SHARED/tokenizers/llama-2/tokenizer_config.json" "$repo_dir/"
token=ba_ci_$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
cat >"$hub_root/hub.json" <<EOF
{"users": [{"name": "ci", "token": "$token"}],
 "repos": [{"id": "meta-llama/Llama-2-7b-ba", "path": "meta-llama/Llama-2-7b-ba",
            "gated": "manual", "granted": ["ci"]}]}
EOF
cat >"$work/llama.py" <<'EOF'
from batok import AutoTokenizer
tokenizer = AutoTokenizer.from_pretrained("meta-llama/Llama-2-7b-ba")   # a gated repo
print(tokenizer.encode("Hello world!"))                                 # [1, 15043, 3186, 29991]
EOF

# PATH without any directory that holds cargo or rustc.
no_rust_path=""
IFS=: read -ra path_dirs <<<"$PATH"
for dir in "${path_dirs[@]}"; do
    if [ -n "$dir" ] && [ ! -x "$dir/cargo" ] && [ ! -x "$dir/rustc" ]; then
        no_rust_path+="${no_rust_path:+:}$dir"
    fi
done

try_wheel() {
    local python=$1 env_dir=$work/env-$2
    "$python" -m venv "$env_dir"
    (
        hub_pid=""
        trap '[ -z "$hub_pid" ] || kill "$hub_pid" 2>/dev/null' EXIT
        export PATH="$env_dir/bin:$no_rust_path"
        unset VIRTUAL_ENV CARGO_HOME RUSTUP_HOME PYTHONPATH
        for var in $(compgen -e); do
            case $var in BA_* | HF_*) unset "$var" ;; esac
        done
        if command -v cargo >/dev/null || command -v rustc >/dev/null; then
            fail "a Rust toolchain is still on PATH"
        fi
        cd "$work"
        # Binary packages only: nothing may be compiled on the way in.
        python -m pip install --quiet --disable-pip-version-check --only-binary :all: "$wheel"
        python -c "import batok._batok as m; assert m.__file__.endswith('.abi3.so'), m.__file__"
        # The version is Cargo.toml's, in the wheel's name and in the command alike.
        version=$(batok --version)
        [ "$version" = "batok $(cut -d- -f2 <<<"$name")" ] || fail "batok --version printed $version"

        got=$(batok encode "Hello world!")
        [ "$got" = "$expected_quick" ] || fail "batok encode printed $got, tiktoken $expected_quick"

        # The log exists before the server starts, so it can be read while the server opens it.
        : >"$work/hub-$2.log"
        batok serve-hub --root "$hub_root" >"$work/hub-$2.log" 2>&1 &
        hub_pid=$!
        endpoint=""
        for _ in $(seq 300); do
            endpoint=$(sed -n 's/^batok test hub at \([^ ]*\) .*/\1/p' "$work/hub-$2.log")
            [ -n "$endpoint" ] && break
            kill -0 "$hub_pid" 2>/dev/null || { cat "$work/hub-$2.log" >&2; fail "serve-hub exited"; }
            sleep 0.1
        done
        [ -n "$endpoint" ] || fail "serve-hub printed no endpoint"
        got=$(BA_ENDPOINT=$endpoint BA_ACCESS_TOKEN=$token BA_HOME=$work/home-$2 python "$work/llama.py")
        kill "$hub_pid"
        wait "$hub_pid" 2>/dev/null || true
        hub_pid=""
        [ "$got" = "$expected_llama" ] || fail "the Llama-2 example printed $got, tokenizers $expected_llama"
        echo "wheel check: Python $2 ($python), $version: quick start -> $expected_quick," \
            "Llama-2 example -> $got"
    )
}

try_wheel "$PY310" 3.10
try_wheel "$PY313" 3.13
echo "wheel check: passed"
