# Baseline: no monitor. Every ratio in the results is against this configuration.
mon_none_describe() { echo "no monitor (baseline)"; }
mon_none_start() { MON_PID=; }
mon_none_stop() { :; }
