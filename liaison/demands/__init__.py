"""Demands and matchmaking (需求对接): demands from enterprises, parks, institutions and departments
at home, talent suggested for them, and the matches HQ follows to a landing. See docs/demands.md."""
