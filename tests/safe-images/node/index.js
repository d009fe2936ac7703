const isOdd = require("is-odd"); console.log("3 is odd:", isOdd(3));
