#!/usr/bin/env bash
# README's set-up on a fresh minimal Debian 12 with no CUDA toolkit (issue 13), as a student's laptop is.
#
# Builds once, and caches, a `debootstrap --variant=minbase bookworm` system with only the packages
# of README's apt line (python3, python3-venv and Qt's libraries), copies the tracked files of this
# checkout into a fresh copy of it, and runs there, in a chroot:
#   install     README's install command, exactly as written (the app it opens runs offscreen,
#               and is closed once it has run for 15 s); its time and the venv's size are measured
#   no-toolkit  ldconfig in the chroot finds no libcudart, and there is no /usr/local/cuda*
#   run         .venv/bin/gpuviz run --kernel tiled --m 33 --n 17 --k 20 --block 8x8 (the simulator)
#   screenshot  .venv/bin/gpuviz --screenshot /tmp/x.png
#   suite       README's test command, exactly as written: the whole test suite
#   light       README's lighter install (students without a GPU) in a second copy, and the same run
#   window      README's libraries load Qt's xcb plugin; DISPLAY with no X server: one line, exit 2;
#               then (xvfb installed, test-only) gpuviz --screenshot under xcb and the app in a window
# Wheels are downloaded once on this host into the cache and pip in the chroot reads only them
# (PIP_FIND_LINKS, PIP_NO_INDEX), so the commands run as written and nothing is fetched twice.
#
# Needs root and a Debian mirror (GPUVIZ_DEBIAN_MIRROR, default deb.debian.org). The cache is
# GPUVIZ_FRESH_CACHE (default /var/cache/gpuviz-fresh). GPUVIZ_FRESH_FROM=HEAD copies the last
# commit (git archive) instead of the working tree's tracked files; GPUVIZ_FRESH_SKIP_SUITE=1 skips
# the whole-suite step.
# Prints one summary line at the end; exits 1 when a step fails, 2 when it cannot run at all.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${GPUVIZ_FRESH_CACHE:-/var/cache/gpuviz-fresh}
MIRROR=${GPUVIZ_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
APP_SECONDS=15
T0=$SECONDS

say() { echo "fresh_machine_check: $*" >&2; }
die() { say "$*"; exit 2; }
elapsed() { local s=$1; printf '%dm%02ds' $((s / 60)) $((s % 60)); }

[[ $(id -u) -eq 0 ]] || die "needs root (debootstrap, chroot, mount)"
command -v git >/dev/null || die "needs git"
command -v python3 >/dev/null || die "needs python3 on this host (to read README and pyproject.toml, to fetch wheels)"
if ! command -v debootstrap >/dev/null; then
    say "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap >/dev/null \
        || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap >/dev/null; } \
        || die "could not install debootstrap"
fi
mkdir -p "$CACHE"

# -- the checkout to test: its tracked files (or the last commit), read from here on -----------------
SRC=$CACHE/src
rm -rf --one-file-system "$SRC" && mkdir -p "$SRC"
if [[ ${GPUVIZ_FRESH_FROM:-} == HEAD ]]; then
    git -C "$REPO" archive HEAD | tar -C "$SRC" -xf -
else
    # tracked files as they are in the working tree (one deleted but not yet committed is skipped)
    (cd "$REPO" && git ls-files -z | xargs -0 -r sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh \
        | tar --null -T - -cf -) | tar -C "$SRC" -xf -
fi

# -- README's commands, read from its "Set up" section so that they cannot drift ---------------------
readme_commands() {
    python3 - "$1" <<'EOF'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
section = re.search(r"^## Set up\n(.*?)^## ", text, re.S | re.M)
if not section:
    sys.exit("README.md has no '## Set up' section")
blocks = [b.strip() for b in re.findall(r"^```sh\n(.*?)^```", section.group(1), re.S | re.M)]
def one(pred, what):
    found = [b for b in blocks if pred(b)]
    if len(found) != 1 or "\n" in found[0]:
        sys.exit(f"README.md's Set up section should have exactly one one-line {what} command, found {len(found)}")
    return found[0]
apt = one(lambda b: "apt-get install" in b, "apt")
install = one(lambda b: b.startswith("python3 -m venv .venv") and "pip install . " in b, "install")
test = one(lambda b: "pytest" in b, "test")
light = one(lambda b: "requirements-simulator.txt" in b, "lighter install")
packages = [w for w in apt.split("apt-get install", 1)[1].split() if not w.startswith("-")]
print(" ".join(packages))
print(install)
print(test)
print(light)
EOF
}
mapfile -t README_LINES < <(readme_commands "$SRC/README.md") || die "could not read README.md's commands"
[[ ${#README_LINES[@]} -eq 4 ]] || die "could not read README.md's commands"
PACKAGES=${README_LINES[0]}
INSTALL_CMD=${README_LINES[1]}
TEST_CMD=${README_LINES[2]}
LIGHT_CMD=${README_LINES[3]}

# -- the base system: minbase + README's packages, cached by what it holds ---------------------------
base_key=$(echo "$SUITE $MIRROR $PACKAGES v1" | sha256sum | cut -c1-12)
BASE_TAR=$CACHE/base-$SUITE-$base_key.tar
ROOT=$CACHE/root
MOUNTS=()

cleanup() {
    local i
    for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
        umount "${MOUNTS[i]}" 2>/dev/null || umount -l "${MOUNTS[i]}" 2>/dev/null || true
    done
    MOUNTS=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mount_in() {  # mount_in TYPE TARGET [OPTIONS]
    mkdir -p "$2"
    mount -t "$1" ${3:+-o "$3"} "$1" "$2"
    MOUNTS+=("$2")
}

remove_root() {
    local m
    for m in proc sys dev/shm dev/pts; do
        if mountpoint -q "$1/$m" 2>/dev/null; then die "$1/$m is still mounted: not removing $1"; fi
    done
    rm -rf --one-file-system "$1"
}

mount_system() {
    mount_in proc "$ROOT/proc"
    mount_in sysfs "$ROOT/sys" ro
    mount_in tmpfs "$ROOT/dev/shm" mode=1777
    local dev
    # debootstrap makes these in a chroot; created here when it did not (e.g. in a container)
    for dev in "null c 1 3" "zero c 1 5" "random c 1 8" "urandom c 1 9" "tty c 5 0"; do
        set -- $dev
        [[ -e $ROOT/dev/$1 ]] || { mknod -m 666 "$ROOT/dev/$1" "$2" "$3" "$4"; }
    done
}

if [[ ! -f $BASE_TAR ]]; then
    say "building the base system ($SUITE minbase + $PACKAGES); cached as $BASE_TAR"
    remove_root "$ROOT"
    debootstrap --variant=minbase "$SUITE" "$ROOT" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 \
        || die "debootstrap failed: see $CACHE/debootstrap.log"
    mount_system
    chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
        /bin/sh -c "apt-get update && apt-get install -y --no-install-recommends $PACKAGES && apt-get clean" \
        >"$CACHE/apt.log" 2>&1 || die "apt-get install in the base system failed: see $CACHE/apt.log"
    cleanup
    tar -C "$ROOT" -cf "$BASE_TAR.part" . && mv "$BASE_TAR.part" "$BASE_TAR"
fi

# -- the wheels, fetched once on this host -----------------------------------------------------------
CHROOT_PY=$(tar -tf "$BASE_TAR" | sed -n 's#^\./usr/lib/python\(3\.[0-9][0-9]*\)/$#\1#p' | head -1)
[[ -n $CHROOT_PY ]] || die "no python3 in the base system"
reqs=$(python3 - "$SRC" <<'EOF'
import sys
try:
    import tomllib
except ImportError:
    sys.exit("this host's python3 is older than 3.11 (tomllib)")
repo = sys.argv[1]
meta = tomllib.load(open(f"{repo}/pyproject.toml", "rb"))
reqs = list(meta["project"]["dependencies"])
for extra in meta["project"].get("optional-dependencies", {}).values():
    reqs += extra
reqs += meta["build-system"]["requires"] + ["editables"]  # an editable install asks hatchling for editables
for line in open(f"{repo}/requirements-simulator.txt"):
    line = line.split("#")[0].strip()
    if line:
        reqs.append(line)
print("\n".join(sorted(set(reqs))))
EOF
) || die "could not read pyproject.toml / requirements-simulator.txt"
wheel_key=$(printf '%s\n%s\n' "$CHROOT_PY" "$reqs" | sha256sum | cut -c1-12)
WHEELS=$CACHE/wheels-$wheel_key
if [[ ! -f $WHEELS/.complete ]]; then
    say "downloading wheels for Python $CHROOT_PY into $WHEELS"
    rm -rf "$WHEELS" && mkdir -p "$WHEELS"
    printf '%s\n' "$reqs" >"$WHEELS/requirements.txt"
    python3 -m pip download --quiet --disable-pip-version-check --only-binary=:all: \
        --python-version "$CHROOT_PY" --dest "$WHEELS" -r "$WHEELS/requirements.txt" >"$CACHE/wheels.log" 2>&1 \
        || die "pip download failed: see $CACHE/wheels.log"
    touch "$WHEELS/.complete"
fi

# -- a fresh system from the cached base, with the checkout and the wheels in it ---------------------
say "unpacking a fresh system into $ROOT"
remove_root "$ROOT"
mkdir -p "$ROOT"
tar -C "$ROOT" -xf "$BASE_TAR"
mkdir -p "$ROOT/wheels"
cp -a "$SRC" "$ROOT/src"
cp -al "$WHEELS/." "$ROOT/wheels/" 2>/dev/null || cp -a "$WHEELS/." "$ROOT/wheels/"
cp -a "$ROOT/src" "$ROOT/src-light"
mount_system

in_chroot() {  # in_chroot DIR COMMAND: COMMAND in bash, in DIR, with a clean environment
    # --default-signal: a check started in the background (SIGINT ignored) still tests Ctrl-C
    chroot "$ROOT" /usr/bin/env --default-signal=INT,QUIT -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
        QT_QPA_PLATFORM=offscreen PIP_FIND_LINKS=/wheels PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
        PIP_NO_CACHE_DIR=1 ${CI:+CI=$CI} /bin/bash -c "cd $1 && $2"
}

descendants() {  # every process under pid $1
    local kids k
    kids=$(ps -e -o pid=,ppid= | awk -v p="$1" '$2 == p {print $1}')
    for k in $kids; do echo "$k"; descendants "$k"; done
}

# Run an install line that ends by opening the app: it passes when the app is still running
# $APP_SECONDS s after it started (it is then closed); sets INSTALL_SECONDS (until the app started).
install_and_open() {  # install_and_open DIR COMMAND LOG
    in_chroot "$1" "$2" >"$3" 2>&1 &
    local shell=$! start=$SECONDS app="" app_at=0 p
    INSTALL_SECONDS=""
    while kill -0 "$shell" 2>/dev/null; do
        if [[ -z $app ]]; then
            for p in $(descendants "$shell"); do
                if { tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null | grep -qE '^/[^ ]*/python[0-9.]* \.venv/bin/gpuviz *$'; then
                    app=$p app_at=$SECONDS INSTALL_SECONDS=$((SECONDS - start))
                fi
            done
        elif ((SECONDS - app_at >= APP_SECONDS)); then
            kill "$app" 2>/dev/null || true
            wait "$shell" 2>/dev/null || true
            echo "fresh_machine_check: the app ran ${APP_SECONDS} s and was closed" >>"$3"
            return 0
        fi
        sleep 1
    done
    wait "$shell" && return 1  # it ended by itself: the app never stayed open
    return 1
}

RESULTS=()
FAILED=0
step() {  # step NAME ok|FAIL [DETAIL]
    RESULTS+=("$1 $2${3:+ ($3)}")
    [[ $2 == ok ]] || FAILED=1
    say "$1: $2${3:+ ($3)}"
}
LOGS=$CACHE/logs
rm -rf "$LOGS" && mkdir -p "$LOGS"

# 1. README's install command, exactly as written
if install_and_open /src "$INSTALL_CMD" "$LOGS/install.log"; then
    VENV_MB=$(du -sm "$ROOT/src/.venv" | cut -f1)
    step install ok "${INSTALL_SECONDS} s, venv ${VENV_MB} MB"
else
    VENV_MB=$(du -sm "$ROOT/src/.venv" 2>/dev/null | cut -f1 || echo 0)
    step install FAIL "see $LOGS/install.log"
fi

# 2. no CUDA toolkit in this system
ld_cache=$(in_chroot / "ldconfig -p" 2>&1) || ld_cache="ldconfig failed: $ld_cache"
if [[ $ld_cache == *libc.so.6* && $ld_cache != *libcudart* ]] && ! compgen -G "$ROOT/usr/local/cuda*" >/dev/null; then
    step no-toolkit ok "ldconfig knows $(grep -c '=>' <<<"$ld_cache") libraries, no libcudart"
else
    step no-toolkit FAIL "ldconfig finds libcudart, /usr/local/cuda exists, or ldconfig did not run"
fi

# 3. one product in the simulator, checked against NumPy
if in_chroot /src ".venv/bin/gpuviz run --kernel tiled --m 33 --n 17 --k 20 --block 8x8" >"$LOGS/run.log" 2>&1 \
        && grep -qE "simulator" "$LOGS/run.log" && grep -qE "\bcorrect\b" "$LOGS/run.log"; then
    step run ok
else
    step run FAIL "see $LOGS/run.log"
fi

# 4. the window, drawn with no display
if in_chroot /src ".venv/bin/gpuviz --screenshot /tmp/x.png" >"$LOGS/screenshot.log" 2>&1 \
        && [[ $(head -c 8 "$ROOT/tmp/x.png" 2>/dev/null | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]]; then
    step screenshot ok "$(($(stat -c %s "$ROOT/tmp/x.png") / 1024)) KB PNG"
else
    step screenshot FAIL "see $LOGS/screenshot.log"
fi

# 5. README's test command, exactly as written: the whole suite (GPUVIZ_FRESH_SKIP_SUITE=1 skips it, for a
#    check of the other steps on a machine whose cores others are using)
if [[ ${GPUVIZ_FRESH_SKIP_SUITE:-} == 1 ]]; then
    RESULTS+=("suite skipped (GPUVIZ_FRESH_SKIP_SUITE=1)")
    say "suite: skipped (GPUVIZ_FRESH_SKIP_SUITE=1)"
else
    suite_start=$SECONDS
    in_chroot /src "$TEST_CMD" >"$LOGS/suite.log" 2>&1 && suite_rc=0 || suite_rc=$?
    counts=$(grep -E '^=+ .*(passed|failed|error).* in [0-9.]+s' "$LOGS/suite.log" | tail -1 | sed -E 's/^=+ //; s/ =+$//' || true)
    if [[ -z $counts ]]; then  # pytest itself died (e.g. a crash in Qt): say in which test file
        counts="no summary: exit $suite_rc during $(grep -oE '^tests/[^ ]+' "$LOGS/suite.log" | tail -1 || true)"
    fi
    if [[ $suite_rc -eq 0 ]]; then
        step suite ok "$counts; $(elapsed $((SECONDS - suite_start))) with the install"
    else
        step suite FAIL "$counts; see $LOGS/suite.log"
    fi
fi

# 6. the lighter install for students without a GPU, and the same product with it
if install_and_open /src-light "$LIGHT_CMD" "$LOGS/light.log" \
        && in_chroot /src-light ".venv/bin/gpuviz run --kernel tiled --m 33 --n 17 --k 20 --block 8x8" \
            >>"$LOGS/light.log" 2>&1 && grep -qE "\bcorrect\b" "$LOGS/light.log"; then
    step light ok "${INSTALL_SECONDS} s, venv $(du -sm "$ROOT/src-light/.venv" | cut -f1) MB"
else
    step light FAIL "see $LOGS/light.log"
fi

# 7. a real window (Qt's xcb platform) on README's libraries, last: its X server (xvfb, test-only,
#    not README's) brings packages of its own. First, before xvfb is installed: README's apt line gave
#    every library Qt's xcb plugin links against, and an X display nobody answers gets gpuviz's one
#    line and exit 2 (not Qt's abort, exit 134).
window_fail=""
cat >"$ROOT/tmp/xcb_check.py" <<'EOF'
from gpuviz.display_check import XCB_LIBRARIES, _loadable

missing = [s for s in XCB_LIBRARIES if not _loadable(s)]
print("missing:", *missing) if missing else print("all", len(XCB_LIBRARIES), "xcb libraries load")
raise SystemExit(1 if missing else 0)
EOF
if ! in_chroot /src ".venv/bin/python /tmp/xcb_check.py" >"$LOGS/window.log" 2>&1; then
    window_fail="README's apt line lacks xcb libraries"
fi
# a display number no X server uses, here or on this host (the chroot shares its abstract sockets)
free_display=$(python3 - "$ROOT" <<'EOF'
import os, socket, sys
for n in range(99, 400):
    p = f"/tmp/.X11-unix/X{n}"
    if os.path.exists(p) or os.path.exists(sys.argv[1] + p) or os.path.exists(f"{sys.argv[1]}/tmp/.X{n}-lock"):
        continue
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect("\0" + p)
    except OSError:
        print(n)
        break
    finally:
        s.close()
EOF
) || true
[[ -n $free_display ]] || window_fail="no free X display number"
if [[ -z $window_fail ]]; then
    in_chroot /src "env -u QT_QPA_PLATFORM DISPLAY=:$free_display .venv/bin/gpuviz" \
        >"$LOGS/window-nodisplay.out" 2>"$LOGS/window-nodisplay.err" && nd_rc=0 || nd_rc=$?
    cat "$LOGS/window-nodisplay.err" >>"$LOGS/window.log"
    if [[ $nd_rc -ne 2 || $(wc -l <"$LOGS/window-nodisplay.err") -ne 1 ]] \
            || ! grep -q "DISPLAY=:$free_display" "$LOGS/window-nodisplay.err"; then
        window_fail="DISPLAY=:$free_display with no server: exit $nd_rc, not one line and exit 2"
    fi
fi
if [[ -z $window_fail ]]; then
    # the packages are kept in the cache: the next run needs no download
    mkdir -p "$CACHE/apt-archives/partial" "$ROOT/var/cache/apt/archives"
    mount --bind "$CACHE/apt-archives" "$ROOT/var/cache/apt/archives" && MOUNTS+=("$ROOT/var/cache/apt/archives")
    xvfb_install="apt-get install -y --no-install-recommends xvfb xauth"
    if ! in_chroot / "DEBIAN_FRONTEND=noninteractive $xvfb_install || (apt-get update && DEBIAN_FRONTEND=noninteractive $xvfb_install)" \
            >>"$LOGS/window.log" 2>&1; then
        window_fail="could not install xvfb in the chroot"
    fi
fi
if [[ -z $window_fail ]]; then
    # the xcb platform named: --screenshot alone would draw offscreen
    # -n: the number found free above (xvfb-run -a looks only at this system's lock files)
    if ! in_chroot /src "QT_QPA_PLATFORM=xcb xvfb-run -n $free_display .venv/bin/gpuviz --screenshot /tmp/w.png --size 1280x720" \
            >>"$LOGS/window.log" 2>&1 \
            || [[ $(head -c 24 "$ROOT/tmp/w.png" 2>/dev/null | od -An -tx1 | tr -d ' \n') \
                  != 89504e470d0a1a0a0000000d4948445200000500000002d0 ]]; then
        window_fail="xvfb-run gpuviz --screenshot under xcb: no 1280x720 PNG"
    fi
fi
if [[ -z $window_fail ]]; then
    # the app itself in a window, QT_QPA_PLATFORM unset as a user has it: still running after 10 s
    in_chroot /src "env -u QT_QPA_PLATFORM timeout -k 5 10 xvfb-run -n $free_display .venv/bin/gpuviz" \
        >>"$LOGS/window.log" 2>&1 \
        && app_rc=0 || app_rc=$?
    [[ $app_rc -eq 124 ]] || window_fail="gpuviz under xvfb ended with exit $app_rc within 10 s"
fi
if [[ -z $window_fail ]]; then
    step window ok "xcb libraries from README's line, one line and exit 2 for DISPLAY=:$free_display, a window under xvfb"
else
    step window FAIL "$window_fail; see $LOGS/window.log"
fi

cleanup
summary=$(IFS='|'; echo "${RESULTS[*]}" | sed 's/|/ | /g')
echo "fresh_machine_check: $( ((FAILED)) && echo FAILED || echo passed ): $summary | total $(elapsed $((SECONDS - T0)))"
exit $FAILED
