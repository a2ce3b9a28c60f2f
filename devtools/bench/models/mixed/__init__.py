"""Chat under mixed load (issue 17): mixed lengths, steady and at once, one version beside another."""
