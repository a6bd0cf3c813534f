"""What a job does to the process it runs in, and puts back: the bridge from sync code, signals, the garbage
collector, the progress bar."""
