"""`make scaling-sim`: a replay of job bursts through KEDA, the HPAs and the pods of a rendered overlay."""
