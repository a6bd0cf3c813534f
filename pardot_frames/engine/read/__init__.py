"""Reading Pardot back into frames, and verifying what a job landed."""
