"""The job and its steps: the input checked, the plan, the run, the dry run, the result and what a stop raises."""
