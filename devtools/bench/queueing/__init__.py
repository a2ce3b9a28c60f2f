"""`make bench`'s queueing part (issues 21 and 22): how a big batch is taken and enqueued, and what waiting
batch lines or another tenant's flood do to interactive jobs' queue wait, on a real stack with a scripted
worker (so the model's speed does not matter)."""
