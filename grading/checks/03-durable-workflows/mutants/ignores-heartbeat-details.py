# exercise: heartbeat-resume
# why: the activity always starts at shard 0, so a retry redoes every shard
@activity.defn(name="process_shards")
async def process_shards(job: ShardJob) -> ShardReport:
    """Process the job's shards, heartbeating progress; resume from the last heartbeat."""
    info = activity.info()
    start = 0
    for shard in range(start, job.shards):
        await handle_shard(job.job_id, shard)
        activity.heartbeat(shard + 1)
    return ShardReport(resumed_from=start, processed=job.shards - start, attempt=info.attempt)
