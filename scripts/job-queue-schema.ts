import { writeFileSync } from 'node:fs';
import { jobQueueSchemaMigration } from '../src/platform/queue/schema.ts';

/**
 * Writes pg-boss's schema, as the pinned pg-boss version builds it, as a plain-SQL migration:
 * `node scripts/job-queue-schema.ts migrations/NNNN_job_queue.sql`. After upgrading pg-boss, write
 * the upgrade (pg-boss's getMigrationPlans) as a new migration the same way; queue.test.ts fails
 * while the installed pg-boss and the migrations disagree.
 */
const target = process.argv[2];
if (!target) throw new Error('usage: node scripts/job-queue-schema.ts <migration file>');
writeFileSync(target, jobQueueSchemaMigration());
