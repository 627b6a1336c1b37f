"""ScheduledTasksWorkflow: health, then the queue processor, then maintenance, as one run."""
