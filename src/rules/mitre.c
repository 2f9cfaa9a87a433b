// SPDX-License-Identifier: GPL-2.0
/*
 * MITRE ATT&CK (Enterprise) ids a rule may name: all tactics, and the
 * techniques and sub-techniques that apply to Linux hosts and containers
 * (names as in ATT&CK v15). A rule naming an id not in these tables is
 * rejected, and so is a technique paired with a tactic it is not part of.
 * A sub-technique belongs to its parent's tactics.
 */
#include <string.h>
#include "rules/rules_int.h"

static const struct {
	const char *id, *name;
} tactics[] = {
	{ "TA0043", "Reconnaissance" },
	{ "TA0042", "Resource Development" },
	{ "TA0001", "Initial Access" },
	{ "TA0002", "Execution" },
	{ "TA0003", "Persistence" },
	{ "TA0004", "Privilege Escalation" },
	{ "TA0005", "Defense Evasion" },
	{ "TA0006", "Credential Access" },
	{ "TA0007", "Discovery" },
	{ "TA0008", "Lateral Movement" },
	{ "TA0009", "Collection" },
	{ "TA0011", "Command and Control" },
	{ "TA0010", "Exfiltration" },
	{ "TA0040", "Impact" },
};

/* tactics: comma-separated; NULL for a sub-technique (its parent's apply). */
static const struct {
	const char *id, *name, *tactics;
} techniques[] = {
	/* Initial access */
	{ "T1190", "Exploit Public-Facing Application", "TA0001" },
	{ "T1133", "External Remote Services", "TA0001,TA0003" },
	{ "T1195", "Supply Chain Compromise", "TA0001" },
	{ "T1195.001", "Compromise Software Dependencies and Development Tools", NULL },
	{ "T1195.002", "Compromise Software Supply Chain", NULL },
	{ "T1078", "Valid Accounts", "TA0001,TA0003,TA0004,TA0005" },
	{ "T1078.001", "Default Accounts", NULL },
	{ "T1078.003", "Local Accounts", NULL },
	{ "T1078.004", "Cloud Accounts", NULL },
	/* Execution */
	{ "T1059", "Command and Scripting Interpreter", "TA0002" },
	{ "T1059.004", "Unix Shell", NULL },
	{ "T1059.006", "Python", NULL },
	{ "T1059.007", "JavaScript", NULL },
	{ "T1106", "Native API", "TA0002" },
	{ "T1129", "Shared Modules", "TA0002" },
	{ "T1203", "Exploitation for Client Execution", "TA0002" },
	{ "T1204", "User Execution", "TA0002" },
	{ "T1204.002", "Malicious File", NULL },
	{ "T1204.003", "Malicious Image", NULL },
	{ "T1559", "Inter-Process Communication", "TA0002" },
	{ "T1609", "Container Administration Command", "TA0002" },
	{ "T1610", "Deploy Container", "TA0002,TA0005" },
	{ "T1053", "Scheduled Task/Job", "TA0002,TA0003,TA0004" },
	{ "T1053.002", "At", NULL },
	{ "T1053.003", "Cron", NULL },
	{ "T1053.006", "Systemd Timers", NULL },
	{ "T1053.007", "Container Orchestration Job", NULL },
	/* Persistence */
	{ "T1098", "Account Manipulation", "TA0003,TA0004" },
	{ "T1098.004", "SSH Authorized Keys", NULL },
	{ "T1136", "Create Account", "TA0003" },
	{ "T1136.001", "Local Account", NULL },
	{ "T1037", "Boot or Logon Initialization Scripts", "TA0003,TA0004" },
	{ "T1037.004", "RC Scripts", NULL },
	{ "T1543", "Create or Modify System Process", "TA0003,TA0004" },
	{ "T1543.002", "Systemd Service", NULL },
	{ "T1546", "Event Triggered Execution", "TA0003,TA0004" },
	{ "T1546.004", "Unix Shell Configuration Modification", NULL },
	{ "T1546.005", "Trap", NULL },
	{ "T1546.016", "Installer Packages", NULL },
	{ "T1546.017", "Udev Rules", NULL }, /* ATT&CK v16 */
	{ "T1547", "Boot or Logon Autostart Execution", "TA0003,TA0004" },
	{ "T1547.006", "Kernel Modules and Extensions", NULL },
	{ "T1547.013", "XDG Autostart Entries", NULL },
	{ "T1505", "Server Software Component", "TA0003" },
	{ "T1505.003", "Web Shell", NULL },
	{ "T1554", "Compromise Host Software Binary", "TA0003" },
	{ "T1574", "Hijack Execution Flow", "TA0003,TA0004,TA0005" },
	{ "T1574.006", "Dynamic Linker Hijacking", NULL },
	{ "T1574.007", "Path Interception by PATH Environment Variable", NULL },
	{ "T1556", "Modify Authentication Process", "TA0006,TA0005,TA0003" },
	{ "T1556.003", "Pluggable Authentication Modules", NULL },
	/* Privilege escalation */
	{ "T1068", "Exploitation for Privilege Escalation", "TA0004" },
	{ "T1548", "Abuse Elevation Control Mechanism", "TA0004,TA0005" },
	{ "T1548.001", "Setuid and Setgid", NULL },
	{ "T1548.003", "Sudo and Sudo Caching", NULL },
	{ "T1611", "Escape to Host", "TA0004" },
	{ "T1055", "Process Injection", "TA0004,TA0005" },
	{ "T1055.008", "Ptrace System Calls", NULL },
	{ "T1055.009", "Proc Memory", NULL },
	/* Defense evasion */
	{ "T1014", "Rootkit", "TA0005" },
	{ "T1027", "Obfuscated Files or Information", "TA0005" },
	{ "T1027.011", "Fileless Storage", NULL },
	{ "T1036", "Masquerading", "TA0005" },
	{ "T1036.005", "Match Legitimate Name or Location", NULL },
	{ "T1070", "Indicator Removal", "TA0005" },
	{ "T1070.002", "Clear Linux or Mac System Logs", NULL },
	{ "T1070.003", "Clear Command History", NULL },
	{ "T1070.004", "File Deletion", NULL },
	{ "T1070.006", "Timestomp", NULL },
	{ "T1140", "Deobfuscate/Decode Files or Information", "TA0005" },
	{ "T1202", "Indirect Command Execution", "TA0005" },
	{ "T1218", "System Binary Proxy Execution", "TA0005" },
	{ "T1222", "File and Directory Permissions Modification", "TA0005" },
	{ "T1222.002", "Linux and Mac File and Directory Permissions Modification", NULL },
	{ "T1497", "Virtualization/Sandbox Evasion", "TA0005,TA0007" },
	{ "T1497.001", "System Checks", NULL },
	{ "T1553", "Subvert Trust Controls", "TA0005" },
	{ "T1553.004", "Install Root Certificate", NULL },
	{ "T1562", "Impair Defenses", "TA0005" },
	{ "T1562.001", "Disable or Modify Tools", NULL },
	{ "T1562.003", "Impair Command History Logging", NULL },
	{ "T1562.004", "Disable or Modify System Firewall", NULL },
	{ "T1562.006", "Indicator Blocking", NULL },
	{ "T1562.012", "Disable or Modify Linux Audit System", NULL },
	{ "T1564", "Hide Artifacts", "TA0005" },
	{ "T1564.001", "Hidden Files and Directories", NULL },
	{ "T1612", "Build Image on Host", "TA0005" },
	{ "T1620", "Reflective Code Loading", "TA0005" },
	/* Credential access */
	{ "T1003", "OS Credential Dumping", "TA0006" },
	{ "T1003.007", "Proc Filesystem", NULL },
	{ "T1003.008", "/etc/passwd and /etc/shadow", NULL },
	{ "T1040", "Network Sniffing", "TA0006,TA0007" },
	{ "T1110", "Brute Force", "TA0006" },
	{ "T1528", "Steal Application Access Token", "TA0006" },
	{ "T1539", "Steal Web Session Cookie", "TA0006" },
	{ "T1552", "Unsecured Credentials", "TA0006" },
	{ "T1552.001", "Credentials In Files", NULL },
	{ "T1552.003", "Bash History", NULL },
	{ "T1552.004", "Private Keys", NULL },
	{ "T1552.005", "Cloud Instance Metadata API", NULL },
	{ "T1552.007", "Container API", NULL },
	{ "T1555", "Credentials from Password Stores", "TA0006" },
	{ "T1555.003", "Credentials from Web Browsers", NULL },
	/* Discovery */
	{ "T1007", "System Service Discovery", "TA0007" },
	{ "T1016", "System Network Configuration Discovery", "TA0007" },
	{ "T1033", "System Owner/User Discovery", "TA0007" },
	{ "T1046", "Network Service Discovery", "TA0007" },
	{ "T1049", "System Network Connections Discovery", "TA0007" },
	{ "T1057", "Process Discovery", "TA0007" },
	{ "T1069", "Permission Groups Discovery", "TA0007" },
	{ "T1082", "System Information Discovery", "TA0007" },
	{ "T1083", "File and Directory Discovery", "TA0007" },
	{ "T1087", "Account Discovery", "TA0007" },
	{ "T1087.001", "Local Account", NULL },
	{ "T1201", "Password Policy Discovery", "TA0007" },
	{ "T1518", "Software Discovery", "TA0007" },
	{ "T1518.001", "Security Software Discovery", NULL },
	{ "T1613", "Container and Resource Discovery", "TA0007" },
	{ "T1654", "Log Enumeration", "TA0007" },
	/* Lateral movement */
	{ "T1021", "Remote Services", "TA0008" },
	{ "T1021.004", "SSH", NULL },
	{ "T1570", "Lateral Tool Transfer", "TA0008" },
	/* Collection */
	{ "T1005", "Data from Local System", "TA0009" },
	{ "T1074", "Data Staged", "TA0009" },
	{ "T1074.001", "Local Data Staging", NULL },
	{ "T1119", "Automated Collection", "TA0009" },
	{ "T1560", "Archive Collected Data", "TA0009" },
	{ "T1560.001", "Archive via Utility", NULL },
	/* Command and control */
	{ "T1071", "Application Layer Protocol", "TA0011" },
	{ "T1071.001", "Web Protocols", NULL },
	{ "T1071.004", "DNS", NULL },
	{ "T1090", "Proxy", "TA0011" },
	{ "T1095", "Non-Application Layer Protocol", "TA0011" },
	{ "T1105", "Ingress Tool Transfer", "TA0011" },
	{ "T1132", "Data Encoding", "TA0011" },
	{ "T1132.001", "Standard Encoding", NULL },
	{ "T1219", "Remote Access Software", "TA0011" },
	{ "T1571", "Non-Standard Port", "TA0011" },
	{ "T1572", "Protocol Tunneling", "TA0011" },
	/* Exfiltration */
	{ "T1020", "Automated Exfiltration", "TA0010" },
	{ "T1030", "Data Transfer Size Limits", "TA0010" },
	{ "T1041", "Exfiltration Over C2 Channel", "TA0010" },
	{ "T1048", "Exfiltration Over Alternative Protocol", "TA0010" },
	{ "T1048.002", "Exfiltration Over Asymmetric Encrypted Non-C2 Protocol", NULL },
	{ "T1048.003", "Exfiltration Over Unencrypted Non-C2 Protocol", NULL },
	{ "T1567", "Exfiltration Over Web Service", "TA0010" },
	/* Impact */
	{ "T1485", "Data Destruction", "TA0040" },
	{ "T1486", "Data Encrypted for Impact", "TA0040" },
	{ "T1489", "Service Stop", "TA0040" },
	{ "T1490", "Inhibit System Recovery", "TA0040" },
	{ "T1496", "Resource Hijacking", "TA0040" },
	{ "T1496.001", "Compute Hijacking", NULL },
	{ "T1499", "Endpoint Denial of Service", "TA0040" },
	{ "T1529", "System Shutdown/Reboot", "TA0040" },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

const char *vg_mitre_tactic_name(const char *id)
{
	for (size_t i = 0; id && i < N(tactics); i++)
		if (!strcmp(tactics[i].id, id))
			return tactics[i].name;
	return NULL;
}

static int technique_index(const char *id)
{
	for (size_t i = 0; id && i < N(techniques); i++)
		if (!strcmp(techniques[i].id, id))
			return (int)i;
	return -1;
}

const char *vg_mitre_technique_name(const char *id)
{
	int i = technique_index(id);

	return i < 0 ? NULL : techniques[i].name;
}

const char *vg_mitre_technique_tactics(const char *id)
{
	char parent[16];
	const char *dot;
	int i = technique_index(id);

	if (i < 0)
		return NULL;
	if (techniques[i].tactics)
		return techniques[i].tactics;
	dot = strchr(id, '.');
	if (!dot || (size_t)(dot - id) >= sizeof(parent))
		return NULL;
	memcpy(parent, id, dot - id);
	parent[dot - id] = 0;
	i = technique_index(parent);
	return i < 0 ? NULL : techniques[i].tactics;
}
