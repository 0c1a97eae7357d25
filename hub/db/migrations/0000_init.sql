CREATE TABLE `audit_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`actor` text NOT NULL,
	`action` text NOT NULL,
	`target` text NOT NULL,
	`detail` text DEFAULT '{}' NOT NULL
);
--> statement-breakpoint
CREATE INDEX `audit_by_time` ON `audit_events` (`at`);--> statement-breakpoint
CREATE TABLE `blocks` (
	`hash` text PRIMARY KEY NOT NULL,
	`size` integer NOT NULL,
	`data` blob NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `devices` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`public_jwk` text NOT NULL,
	`token_jti` text NOT NULL,
	`created_at` integer NOT NULL,
	`last_seen_at` integer,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE TABLE `enrolment_tokens` (
	`jti` text PRIMARY KEY NOT NULL,
	`label` text DEFAULT '' NOT NULL,
	`shares` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer,
	`used_by` text,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE TABLE `entries` (
	`share` text NOT NULL,
	`path` text NOT NULL,
	`seq` integer NOT NULL,
	`type` text NOT NULL,
	`size` integer DEFAULT 0 NOT NULL,
	`mode` integer DEFAULT 0 NOT NULL,
	`mtime_ms` integer DEFAULT 0 NOT NULL,
	`block_size` integer NOT NULL,
	`blocks` text DEFAULT '[]' NOT NULL,
	`target` text,
	`hash` text DEFAULT '' NOT NULL,
	`device_id` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`share`, `path`)
);
--> statement-breakpoint
CREATE INDEX `entries_by_share_seq` ON `entries` (`share`,`seq`);--> statement-breakpoint
CREATE TABLE `hub_keys` (
	`kid` text PRIMARY KEY NOT NULL,
	`private_jwk` text NOT NULL,
	`public_jwk` text NOT NULL,
	`created_at` integer NOT NULL,
	`retired_at` integer
);
--> statement-breakpoint
CREATE TABLE `hub_settings` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `instructions` (
	`id` text PRIMARY KEY NOT NULL,
	`device_id` text NOT NULL,
	`share` text NOT NULL,
	`from_seq` integer NOT NULL,
	`to_seq` integer NOT NULL,
	`jws` text NOT NULL,
	`op_count` integer NOT NULL,
	`bytes` integer NOT NULL,
	`status` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`acked_at` integer
);
--> statement-breakpoint
CREATE INDEX `instructions_pending_by_device` ON `instructions` (`device_id`,`status`);--> statement-breakpoint
CREATE TABLE `members` (
	`share` text NOT NULL,
	`device_id` text NOT NULL,
	`role` text NOT NULL,
	`cursor` integer DEFAULT 0 NOT NULL,
	`dry_run` integer DEFAULT false NOT NULL,
	`dry_run_seq` integer DEFAULT 0 NOT NULL,
	`last_report_at` integer,
	`last_apply_at` integer,
	`last_error` text,
	PRIMARY KEY(`share`, `device_id`),
	FOREIGN KEY (`share`) REFERENCES `shares`(`name`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`device_id`) REFERENCES `devices`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `members_by_device` ON `members` (`device_id`);--> statement-breakpoint
CREATE TABLE `shares` (
	`name` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`deletes` text NOT NULL,
	`conflicts` text NOT NULL,
	`head_seq` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `sync_ops` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`run_id` integer NOT NULL,
	`seq` integer NOT NULL,
	`path` text NOT NULL,
	`action` text NOT NULL,
	`bytes` integer DEFAULT 0 NOT NULL,
	`ok` integer NOT NULL,
	`error` text
);
--> statement-breakpoint
CREATE INDEX `sync_ops_by_run` ON `sync_ops` (`run_id`);--> statement-breakpoint
CREATE TABLE `sync_runs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`share` text NOT NULL,
	`device_id` text NOT NULL,
	`kind` text NOT NULL,
	`from_seq` integer NOT NULL,
	`to_seq` integer NOT NULL,
	`files` integer DEFAULT 0 NOT NULL,
	`bytes` integer DEFAULT 0 NOT NULL,
	`result` text NOT NULL,
	`error` text,
	`at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `sync_runs_by_share` ON `sync_runs` (`share`,`at`);--> statement-breakpoint
CREATE INDEX `sync_runs_by_device` ON `sync_runs` (`device_id`,`at`);