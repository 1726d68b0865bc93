#!/usr/bin/env bash
# The image's second step: gathers into ROOT (default /rootfs) what the
# runtime image holds and nothing more: sluice, its plugins, exactly the
# shared libraries they load (found with ldd, as the dynamic loader will),
# CA certificates, the default configuration, a non-root user, and the
# directories users mount. Run after readme-quickstart.sh, from the source
# tree's root, as root.
set -euo pipefail
root=${1:-/rootfs}
uid=10001

cmake --install build --prefix "$root/usr" --strip >/dev/null
rm -rf "$root/usr/include" "$root/usr/lib/pkgconfig" "$root/usr/share"

# Every library the binary and the plugins need, by the path the loader
# resolves, copied as a file (symbolic links followed); libgcc_s is
# dlopened by glibc to unwind a cancelled thread.
libs=$(for f in "$root/usr/bin/sluice" "$root"/usr/lib/sluice/plugins/*.so; do
    ldd "$f" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
done | sort -u)
libs+=$'\n'$(gcc -print-file-name=libgcc_s.so.1)
for lib in $libs; do
    cp -L --parents "$lib" "$root"
done

mkdir -p "$root/etc/ssl/certs" "$root/etc/sluice" "$root/usr/lib/sluice/plugins.d" \
    "$root/var/lib/sluice" "$root/tmp"
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
cp docker/sluice.yaml "$root/etc/sluice/sluice.yaml"
printf 'root:x:0:0:root:/root:/sbin/nologin\nsluice:x:%d:%d:sluice:/var/lib/sluice:/sbin/nologin\n' \
    $uid $uid >"$root/etc/passwd"
printf 'root:x:0:\nsluice:x:%d:\n' $uid >"$root/etc/group"
printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
chown $uid:$uid "$root/var/lib/sluice"
chmod 0750 "$root/var/lib/sluice"
chmod 1777 "$root/tmp"
echo "runtime root: $(du -sh "$root" | cut -f1), $(echo "$libs" | wc -l) shared libraries"
