// Package workshop serves the workshop page of `rewardmix serve`: sliders
// for a preset's signal weights and modes, the drift, segment and influence
// figures and the headline numbers of each scenario's run, and a story mode
// that walks a room through the incident and its fixes, every sentence's
// numbers taken from its own run. It also lays out what the printed report
// shares with the page: a run's headline, its figures as inline SVG, and
// the story as a handout.
package workshop
