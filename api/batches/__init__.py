"""OpenAI's Batch API over the job queue: the /v1/batches routes, and the runner that expands each
batch's file into jobs and writes its output (`python -m api.batches`)."""
