CREATE TABLE `access_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`hash` text NOT NULL,
	`label` text DEFAULT '' NOT NULL,
	`created_at` integer NOT NULL,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `access_tokens_hash_unique` ON `access_tokens` (`hash`);--> statement-breakpoint
CREATE TABLE `alert_states` (
	`alert_id` text NOT NULL,
	`subject` text NOT NULL,
	`status` text NOT NULL,
	`since` integer NOT NULL,
	PRIMARY KEY(`alert_id`, `subject`)
);
--> statement-breakpoint
CREATE TABLE `alerts` (
	`id` text PRIMARY KEY NOT NULL,
	`url` text NOT NULL,
	`events` text NOT NULL,
	`offline_after_ms` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `dashboard_sessions` (
	`id_hash` text PRIMARY KEY NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `devices` ADD `approval` text DEFAULT 'approved' NOT NULL;--> statement-breakpoint
ALTER TABLE `devices` ADD `agent_version` text;--> statement-breakpoint
ALTER TABLE `enrolment_tokens` ADD `approval` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `shares` ADD `approval` text DEFAULT 'none' NOT NULL;