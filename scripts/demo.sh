#!/usr/bin/env bash
# A short tour on the default SQLite vault (created on first use in ~/.avfs, or $AVFS_HOME).
# Everything it makes lives under /avfs-demo in that vault; running it again starts over.
set -euo pipefail
cd "$(dirname "$0")/.."
avfs() { bin/avfs "$@"; }
show() { local out="" w; for w in "$@"; do [[ $w =~ ^[A-Za-z0-9_./:=+-]+$ ]] && out+=" $w" || out+=" ${w@Q}"; done; printf '%s' "$out"; }
step() { printf '\n\033[1m$ avfs%s\033[0m\n' "$(show "$@")"; avfs "$@"; }

avfs rm -rf /avfs-demo
step write /avfs-demo/notes/todo.md "- try agentvfs"
step write -a /avfs-demo/notes/todo.md $'\n- snapshot before risky steps\n'
step cat -n /avfs-demo/notes/todo.md
printf 'binary \x00\x01\x02 bytes' | avfs write --stdin /avfs-demo/data/blob.bin
step mkdir -p /avfs-demo/src/lib
step write /avfs-demo/src/lib/util.ts "export const answer = 42;"
step ln -s ../notes/todo.md /avfs-demo/src/TODO
step cp -r /avfs-demo/src /avfs-demo/src-copy
step mv /avfs-demo/src-copy /avfs-demo/archive
step ls -l /avfs-demo
step tree /avfs-demo
step find /avfs-demo -name '*.ts' -type f
step tag /avfs-demo/notes/todo.md plan
step meta /avfs-demo/notes/todo.md owner agent-a
step stat /avfs-demo/notes/todo.md
step search 'snapshot* OR answer' /avfs-demo
step search -l --tag plan agentvfs
step grep -rn -E 'answer|snapshot' /avfs-demo
step cd /avfs-demo/notes
step pwd
step cat todo.md
avfs cd /
out=$(mktemp -d)
step export -r /avfs-demo "$out/exported"
echo "exported to $out/exported:"; ls -lR "$out/exported" | head -20
step import -r "$out/exported" /avfs-demo/reimported
step vault info
step vault check
rm -rf "$out"
printf '\nDone. The vault is %s; try: bin/avfs ls -R /avfs-demo\n' "$(bin/avfs --json vault info | node -e 'process.stdin.on("data",d=>console.log(JSON.parse(d).path))')"
