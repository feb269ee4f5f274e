DROP TABLE alltypes;
DROP TABLE colors;
DROP TYPE mood;
