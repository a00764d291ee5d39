package demo

// Name parts for demo e-mail addresses (first.last<n>@example.com).
var firstNames = [...]string{
	"ava", "liam", "olivia", "noah", "emma", "oliver", "sophia", "elijah", "isabella", "james",
	"mia", "william", "amelia", "benjamin", "harper", "lucas", "evelyn", "henry", "abigail", "theo",
	"emily", "jack", "ella", "levi", "scarlett", "mateo", "grace", "leo", "chloe", "ezra",
	"zoe", "hudson", "nora", "owen", "lily", "sebastian", "hannah", "luca", "aria", "kai",
	"maya", "arjun", "priya", "yuki", "hiro", "lea", "jonas", "ines", "sofia", "marco",
	"fatima", "omar", "amara", "kofi", "chen", "mei", "diego", "lucia", "anna", "lars",
}

var lastNames = [...]string{
	"martin", "smith", "johnson", "williams", "brown", "jones", "garcia", "miller", "davis", "rodriguez",
	"martinez", "hernandez", "lopez", "gonzalez", "wilson", "anderson", "thomas", "taylor", "moore", "jackson",
	"lee", "perez", "thompson", "white", "harris", "sanchez", "clark", "ramirez", "lewis", "robinson",
	"walker", "young", "allen", "king", "wright", "scott", "torres", "nguyen", "hill", "flores",
	"green", "adams", "nelson", "baker", "hall", "rivera", "campbell", "mitchell", "carter", "roberts",
	"schmidt", "muller", "rossi", "dubois", "tanaka", "kim", "patel", "singh", "silva", "kowalski",
}
