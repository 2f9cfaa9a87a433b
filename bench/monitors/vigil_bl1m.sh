# vigil enforcing a network policy with a 1,000,000-entry blocklist (500,000 addresses of
# 10.215.0.0/13, 500,000 names): the "vigil with a 1M-entry blocklist enforced".
# Helpers in vigil_bl1k.sh. Runs for the network workloads only (connstorm, netbulk).
NPB_SIZE_vigil_bl1m=1000000

mon_vigil_bl1m_describe() { echo "$(mon_vigil_describe) + \`--network-policy\` with a 1,000,000-entry blocklist (500,000 addresses, 500,000 names), enforce"; }
mon_vigil_bl1m_check() { mon_vigil_check; }
mon_vigil_bl1m_start() { _npb_start vigil_bl1m "$1"; }
mon_vigil_bl1m_begin() { mon_vigil_begin "$1"; }
mon_vigil_bl1m_report() { _npb_report "$1"; }
mon_vigil_bl1m_stop() { mon_vigil_stop "$1"; }
