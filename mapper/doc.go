// Package mapper turns Riot match-v5 frames into tagged Datadog points and events with pure, clock-free functions.
package mapper
