# exercise: heartbeat-resume
# why: the heartbeat claims a shard before it is processed, so a shard that failed is skipped on the retry
@activity.defn(name="process_shards")
async def process_shards(job: ShardJob) -> ShardReport:
    """Process the job's shards, heartbeating progress; resume from the last heartbeat."""
    info = activity.info()
    start = int(info.heartbeat_details[0]) if info.heartbeat_details else 0
    for shard in range(start, job.shards):
        activity.heartbeat(shard + 1)
        await handle_shard(job.job_id, shard)
    return ShardReport(resumed_from=start, processed=job.shards - start, attempt=info.attempt)
