/*
 * pii_lexicon.c - names, places, organisations and NRP (nationalities,
 * religious and political groups) without a statistical model: gazetteers of
 * common first names, surnames, countries, US states and large cities,
 * nationalities and religions, plus cue patterns ("my name is", "Mr.",
 * "regards,", "lives in", "works for", "... Inc").  The checkers here keep a
 * cue from turning a common word into a name.
 *
 * These catch the frequent cases; a name with no cue and no gazetteer entry is
 * missed (Presidio relies on spaCy's NER for these).  Users add their own
 * terms through dictionaries in the policy file (pii_term).
 */
#include "pii_internal.h"
#include "../core/buf.h"
#include "../core/utf8.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <utf8proc.h>

#include "../core/banned.h"

static const char FIRST_NAMES[] =
	"James John Robert Michael William David Richard Joseph Thomas Charles Christopher Daniel "
	"Matthew Anthony Donald Steven Paul Andrew Joshua Kenneth Kevin Brian George Edward Ronald "
	"Timothy Jason Jeffrey Ryan Jacob Gary Nicholas Eric Jonathan Stephen Larry Justin Scott "
	"Brandon Benjamin Samuel Gregory Frank Alexander Raymond Patrick Jack Dennis Jerry Tyler "
	"Aaron Jose Adam Henry Nathan Douglas Zachary Peter Kyle Walter Ethan Jeremy Harold Keith "
	"Roger Noah Gerald Carl Terry Sean Arthur Lawrence Jesse Dylan Bryan Joe Billy Bruce Albert "
	"Willie Gabriel Logan Alan Juan Wayne Roy Ralph Randy Eugene Vincent Russell Elijah Louis "
	"Bobby Philip Johnny Mike Jon Tom Tim Steve Dave Chris Matt Dan Ben Sam Alex Nick Tony Jim "
	"Bob Ted Ken Jeff Greg Cliff Clifford Derek Ian Neil Simon Graham Colin Stuart Gordon Oliver "
	"Harry Charlie Leo Oscar Archie Freddie Lucas Liam Luke Owen Caleb Isaac Connor Evan Aiden "
	"Jayden Wyatt Hudson Levi Julian Eli Ezra Theo Hugo Felix Victor Martin Marcus Jeremiah Kurt "
	"Travis Derrick Shawn Howard Fred Earl Todd Herbert Barry Bernard Leonard Norman Stanley "
	"Clarence Francis Tommy Randall Curtis Craig Allen Troy Marvin Ricky Seth Cody Brett Darren "
	"Wesley Spencer Trevor Dustin Garrett Dominic Ivan Nathaniel Maxwell Mary Patricia Jennifer "
	"Linda Elizabeth Barbara Susan Jessica Sarah Karen Lisa Nancy Betty Margaret Sandra Ashley "
	"Kimberly Emily Donna Michelle Carol Amanda Dorothy Melissa Deborah Stephanie Rebecca Sharon "
	"Laura Cynthia Kathleen Amy Angela Shirley Anna Brenda Pamela Emma Nicole Helen Samantha "
	"Katherine Christine Debra Rachel Carolyn Janet Catherine Maria Heather Diane Ruth Julie "
	"Olivia Joyce Kelly Lauren Christina Joan Evelyn Judith Megan Andrea Cheryl Hannah "
	"Jacqueline Martha Gloria Teresa Ann Sara Madison Frances Kathryn Janice Jean Abigail Alice "
	"Judy Sophia Julia Denise Doris Marilyn Danielle Beverly Isabella Theresa Diana Natalie "
	"Brittany Charlotte Marie Kayla Alexis Lori Jane Claire Sophie Lucy Ella Chloe Mia Ava Amelia "
	"Isla Ellie Freya Evie Zoe Katie Molly Leah Eva Elena Natalia Anastasia Tatiana Olga Irina "
	"Svetlana Ekaterina Yulia Ana Ariana Isabel Carmen Lucia Sofia Paula Valentina Camila "
	"Gabriela Daniela Fernanda Mariana Beatriz Juliana Marcela Adriana Veronica Monica Francesca "
	"Giulia Chiara Alessia Martina Federica Silvia Elisa Ingrid Astrid Sigrid Helga Greta Katrine "
	"Mette Hanne Kirsten Karin Birgit Ulrike Sabine Petra Monika Claudia Stefanie Nadine Heike "
	"Anja Lena Leonie Johanna Marta Magdalena Agnieszka Katarzyna Małgorzata Joanna Ewa Zofia "
	"Weronika Aleksandra Dorota Eszter Katalin Erzsébet Zsófia Ilona Szabina Aino Elina Sanna "
	"Aiko Yuki Sakura Mei Priya Ananya Aisha Fatima Leila Nour Zeynep Elif Ayşe Fatma Emine "
	"Christin Kristin Mila Nina Vera Rosa Alma Tilly Elisabeth Melanie Naomi Hans Klaus Jürgen "
	"Wolfgang Dieter Uwe Stefan Andreas Markus Jens Lars Sven Nils Erik Henrik Anders Jan Jonas "
	"Lukas Leon Finn Elias Matthias Tobias Sebastian Florian Johannes Maximilian Fabian Mads "
	"Rasmus Mikkel Søren Jesper Niels Ole Magnus Bjørn Olaf Halldór Gunnar Jóhann Sigurður Matti "
	"Mikko Juha Timo Jari Pekka Antti Heikki Kalle Pierre Michel Philippe Alain Nicolas François "
	"Laurent Julien Antoine Mathieu Guillaume Jules Luca Marco Giuseppe Giovanni Francesco "
	"Alessandro Matteo Lorenzo Davide Riccardo Stefano Paolo Roberto Antonio Carlos José Manuel "
	"Francisco Javier Miguel Pedro Pablo Sergio Diego Alejandro Fernando Jorge Luis Raúl Rafael "
	"João Tiago Rui Nuno Piotr Krzysztof Tomasz Paweł Michał Marcin Jakub Mateusz Łukasz Kamil "
	"Bartosz Wojciech Dmitri Dmitry Sergei Sergey Alexei Andrei Nikolai Vladimir Mikhail Pavel "
	"Yuri Oleg Igor Boris Viktor László István Zoltán Gábor Péter Attila Tamás Krisztián Balázs "
	"Jožef Janez Marko Luka Ahmed Mohammed Muhammad Omar Hassan Hussein Mustafa Yusuf Ibrahim "
	"Mehmet Emre Burak Murat Kemal Raj Rahul Amit Vikram Arjun Rohan Sanjay Ravi Kenji Hiroshi "
	"Takeshi Yuto Haruto Wei Ming Hao Jamie Angel Alvin Kathy Gaetane Melvin Benedict Edith "
	"Agnes Esther Harriet Iris Lydia Miriam Nora Ruthie Stella Thea Ursula Wilma Yvonne Yvette "
	"Bonifacy Hodge Tomomi Toshimi Marcel Matilda Mathilde Yasmin Yasmine Hanna Annika Sonja";

/* First names that are also common words: a name only with a surname. */
static const char AMBIGUOUS_FIRST[] =
	"Will Bill Mark Grace Hope Faith Joy Rose Art Guy Sky Summer Dawn June April August May "
	"Angel Max Lee Dale Glenn Jordan Chase Hunter Carter Mason Taylor Austin Lincoln Miles Grant "
	"Cole Blake Victoria Virginia Georgia Florence Paris Sydney Chad Jean Christian Frank Rich "
	"Sunny Crystal Amber Ruby Holly Ivy Lily Daisy Jade Pearl Penny Carol Don Drew Rod Pat Ray "
	"Gene Jay Herb Cliff Reed Ash Brook Dean Earl Forest Heath Lane Wade Wolf";

static const char SURNAMES[] =
	"Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
	"Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris "
	"Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill "
	"Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips "
	"Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook "
	"Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward "
	"Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez "
	"Castillo Sanders Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan "
	"Bell Coleman Butler Henderson Barnes Gonzales Fisher Vasquez Simmons Romero Jordan "
	"Patterson Alexander Hamilton Graham Reynolds Griffin Wallace Moreno West Cole Hayes Bryant "
	"Herrera Gibson Ellis Tran Medina Aguilar Stevens Murray Ford Castro Marshall Owens Harrison "
	"Fernandez McDonald Woods Washington Kennedy Wells Vargas Henry Chen Freeman Webb Tucker "
	"Guzman Burns Crawford Olson Simpson Porter Hunter Gordon Mendez Silva Shaw Snyder Mason "
	"Dixon Munoz Hunt Hicks Holmes Palmer Wagner Black Robertson Boyd Rose Stone Salazar Fox "
	"Warren Mills Meyer Rice Schmidt Garza Daniels Ferguson Nichols Stephens Soto Weaver Ryan "
	"Gardner Payne Grant Dunn Kelley Spencer Hawkins Arnold Pierce Vazquez Hansen Peters Santos "
	"Hart Bradley Knight Elliott Cunningham Duncan Armstrong Hudson Carroll Lane Riley Andrews "
	"Alvarado Ray Delgado Berry Perkins Hoffman Johnston Matthews Pena Richards Willis Carpenter "
	"Lawrence Sandoval Müller Schneider Fischer Weber Becker Schulz Hoffmann Schäfer Koch Bauer "
	"Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange "
	"Schmitt Werner Krause Meier Lehmann Schmid Schulze Maier Köhler Herrmann König Walter Mayer "
	"Huber Kaiser Fuchs Lang Scholz Möller Weiß Jung Hahn Vogel Friedrich Keller Günther Berger "
	"Winkler Roth Beck Lorenz Baumann Franke Albrecht Dubois Durand Lefebvre Leroy Moreau "
	"Laurent Simon Michel Lefèvre Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci "
	"Marino Greco Bruno Gallo Conti Costa Giordano Mancini Rizzo Lombardi Moretti Nowak "
	"Kowalski Wiśniewski Wójcik Kowalczyk Kamiński Lewandowski Zieliński Szymański Woźniak "
	"Kaczmarek Nielsen Jensen Pedersen Andersen Christensen Larsen Sørensen Rasmussen Johansson "
	"Karlsson Nilsson Eriksson Larsson Olsson Persson Svensson Gustafsson Virtanen Korhonen "
	"Mäkinen Nieminen Mäkelä Hämäläinen Laine Heikkinen Koskinen Järvinen Nagy Kovács Tóth "
	"Szabó Horváth Varga Kiss Molnár Németh Farkas Ivanov Smirnov Kuznetsov Popov Sokolov "
	"Lebedev Kozlov Novikov Morozov Petrov Volkov Yilmaz Kaya Demir Şahin Çelik Yıldız Yıldırım "
	"Öztürk Aydın Özdemir Tanaka Suzuki Takahashi Watanabe Ito Yamamoto Nakamura Kobayashi Sato "
	"Wang Zhang Liu Yang Huang Zhao Zhou Park Choi Kang Cho Yoon Jang Lim Singh Kumar Sharma "
	"Gupta Shah Mehta Reddy Rao Khan Ahmed Hussain Pratt Parks Dawson Fanucci Ferreira Oliveira "
	"Pereira Almeida Sousa Carvalho Gomes Martins Rocha Ribeiro Alves Barbosa Lima Araujo";

static const char COUNTRIES[] =
	"Afghanistan|Albania|Algeria|Andorra|Angola|Argentina|Armenia|Australia|Austria|Azerbaijan|"
	"Bahamas|Bahrain|Bangladesh|Barbados|Belarus|Belgium|Belize|Benin|Bhutan|Bolivia|"
	"Bosnia and Herzegovina|Bosnia|Botswana|Brazil|Brunei|Bulgaria|Burkina Faso|Burundi|Cambodia|"
	"Cameroon|Canada|Cape Verde|Central African Republic|Chile|China|Colombia|Comoros|Congo|"
	"Costa Rica|Croatia|Cuba|Cyprus|Czech Republic|Czechia|Denmark|Djibouti|Dominica|"
	"Dominican Republic|Ecuador|Egypt|El Salvador|Equatorial Guinea|Eritrea|Estonia|Eswatini|"
	"Ethiopia|Fiji|Finland|France|Gabon|Gambia|Germany|Ghana|Greece|Grenada|Guatemala|Guinea|"
	"Guyana|Haiti|Honduras|Hungary|Iceland|India|Indonesia|Iran|Iraq|Ireland|Israel|Italy|"
	"Ivory Coast|Jamaica|Japan|Kazakhstan|Kenya|Kiribati|Kosovo|Kuwait|Kyrgyzstan|Laos|Latvia|"
	"Lebanon|Lesotho|Liberia|Libya|Liechtenstein|Lithuania|Luxembourg|Madagascar|Malawi|Malaysia|"
	"Maldives|Mali|Malta|Mauritania|Mauritius|Mexico|Micronesia|Moldova|Monaco|Mongolia|"
	"Montenegro|Morocco|Mozambique|Myanmar|Namibia|Nauru|Nepal|Netherlands|New Zealand|"
	"Nicaragua|Niger|Nigeria|North Korea|North Macedonia|Macedonia|Norway|Oman|Pakistan|Palau|"
	"Palestine|Panama|Papua New Guinea|Paraguay|Peru|Philippines|Poland|Portugal|Qatar|Romania|"
	"Russia|Rwanda|Samoa|San Marino|Saudi Arabia|Senegal|Serbia|Seychelles|Sierra Leone|"
	"Singapore|Slovakia|Slovenia|Somalia|South Africa|South Korea|South Sudan|Spain|Sri Lanka|"
	"Sudan|Suriname|Sweden|Switzerland|Syria|Taiwan|Tajikistan|Tanzania|Thailand|Togo|Tonga|"
	"Trinidad and Tobago|Tunisia|Turkey|Türkiye|Turkmenistan|Tuvalu|Uganda|Ukraine|"
	"United Arab Emirates|United Kingdom|United States of America|United States|Uruguay|"
	"Uzbekistan|Vanuatu|Vatican City|Venezuela|Vietnam|Yemen|Zambia|Zimbabwe|England|Scotland|"
	"Wales|Northern Ireland|Great Britain|Britain|USA|U\\.S\\.A\\.|Greenland|Puerto Rico|"
	"Hong Kong|Macau|Deutschland|España|Italia|Brasil|Österreich|Schweiz|Suisse|Sverige|Norge|"
	"Danmark|Suomi|Polska|Česko|Magyarország|Ελλάδα|Κύπρος|Россия|한국|대한민국|ประเทศไทย|日本|中国|"
	"Alabama|Alaska|Arizona|Arkansas|California|Colorado|Connecticut|Delaware|Florida|Hawaii|"
	"Idaho|Illinois|Iowa|Kansas|Kentucky|Louisiana|Maine|Maryland|Massachusetts|Michigan|"
	"Minnesota|Mississippi|Missouri|Montana|Nebraska|Nevada|New Hampshire|New Jersey|New Mexico|"
	"New York|North Carolina|North Dakota|Ohio|Oklahoma|Oregon|Pennsylvania|Rhode Island|"
	"South Carolina|South Dakota|Tennessee|Texas|Utah|Vermont|West Virginia|Wisconsin|Wyoming|"
	"London|Paris|Berlin|Madrid|Rome|Milan|Vienna|Prague|Warsaw|Budapest|Amsterdam|Brussels|"
	"Copenhagen|Stockholm|Oslo|Helsinki|Dublin|Lisbon|Athens|Istanbul|Ankara|Moscow|Kyiv|Kiev|"
	"Munich|München|Hamburg|Frankfurt|Cologne|Köln|Zurich|Zürich|Geneva|Barcelona|Seville|"
	"Valencia|Naples|Turin|Venice|Lyon|Marseille|Toulouse|Bordeaux|Manchester|Birmingham|"
	"Liverpool|Leeds|Glasgow|Edinburgh|Bristol|Cardiff|Belfast|New York City|Los Angeles|"
	"Chicago|Houston|Philadelphia|San Antonio|San Diego|Dallas|San Jose|Jacksonville|"
	"San Francisco|Seattle|Denver|Boston|Detroit|Nashville|Las Vegas|Baltimore|Milwaukee|"
	"Atlanta|Miami|Minneapolis|Cleveland|New Orleans|Tampa|Pittsburgh|Cincinnati|Sacramento|"
	"Orlando|St\\. Louis|Honolulu|Anchorage|Toronto|Montreal|Vancouver|Calgary|Ottawa|Edmonton|"
	"Mexico City|Guadalajara|São Paulo|Sao Paulo|Rio de Janeiro|Buenos Aires|Lima|Bogotá|Bogota|"
	"Caracas|Tokyo|Osaka|Kyoto|Yokohama|Seoul|Busan|Beijing|Shanghai|Shenzhen|Guangzhou|Taipei|"
	"Bangkok|Hanoi|Ho Chi Minh City|Manila|Jakarta|Kuala Lumpur|Mumbai|Delhi|New Delhi|"
	"Bangalore|Bengaluru|Chennai|Kolkata|Hyderabad|Karachi|Lahore|Dhaka|Dubai|Abu Dhabi|Doha|"
	"Riyadh|Tehran|Baghdad|Cairo|Lagos|Nairobi|Johannesburg|Cape Town|Casablanca|Tunis|Algiers|"
	"Accra|Addis Ababa|Melbourne|Brisbane|Perth|Adelaide|Auckland|Wellington|Tel Aviv|"
	"Jerusalem|Beirut|Reykjavik|Reykjavík|Tallinn|Riga|Vilnius|Bucharest|Belgrade|Zagreb|"
	"Ljubljana|Bratislava|Minsk|Kraków|Krakow|Gdańsk|Wrocław|Poznań|Łódź|Porto|Antwerp|"
	"Rotterdam|The Hague|Gothenburg|Göteborg|Malmö|Aarhus|Odense|Aalborg|Bergen|Tampere|Turku|"
	"Espoo|Salzburg|Graz|Innsbruck|Basel|Bern|Lausanne|Stuttgart|Düsseldorf|Dresden|Leipzig|"
	"Hannover|Nuremberg|Nürnberg|Bremen|Essen|Dortmund|Bonn|서울|부산|กรุงเทพ|กรุงเทพมหานคร|"
	"İstanbul|İzmir|Izmir|Antalya|Bursa";

static const char NRP[] =
	"American|British|English|Scottish|Welsh|Irish|French|German|Italian|Spanish|Portuguese|"
	"Dutch|Belgian|Swiss|Austrian|Swedish|Norwegian|Danish|Finnish|Icelandic|Polish|Czech|Slovak|"
	"Hungarian|Romanian|Bulgarian|Greek|Turkish|Russian|Ukrainian|Belarusian|Serbian|Croatian|"
	"Slovenian|Bosnian|Albanian|Macedonian|Estonian|Latvian|Lithuanian|Canadian|Mexican|"
	"Brazilian|Argentine|Argentinian|Chilean|Colombian|Peruvian|Venezuelan|Cuban|Chinese|"
	"Japanese|Korean|Vietnamese|Thai|Filipino|Indonesian|Malaysian|Singaporean|Indian|Pakistani|"
	"Bangladeshi|Sri Lankan|Nepalese|Afghan|Iranian|Iraqi|Syrian|Lebanese|Israeli|Palestinian|"
	"Jordanian|Saudi|Emirati|Egyptian|Moroccan|Algerian|Tunisian|Libyan|Nigerian|Kenyan|"
	"Ethiopian|Ghanaian|South African|Australian|New Zealander|Cambodian|Mongolian|Kazakh|Uzbek|"
	"Armenian|Georgian|Azerbaijani|Cypriot|Maltese|Hispanic|Latino|Latina|Asian|African|"
	"European|Arab|Caucasian|Jewish|Muslim|Christian|Catholic|Protestant|Buddhist|Hindu|Sikh|"
	"Mormon|Orthodox|Atheist|Evangelical|Baptist|Methodist|Lutheran|Anglican|Sunni|Shia|"
	"Democrat|Democrats|Republican|Republicans|Conservative|Conservatives|Liberal|Liberals|"
	"Socialist|Socialists|Communist|Communists|Libertarian|Labour";

static const char ORG_SUFFIX[] =
	"Inc|Incorporated|LLC|L\\.L\\.C\\.|Ltd|Limited|Corp|Corporation|Company|GmbH|AG|KG|SE|SA|"
	"S\\.A\\.|SAS|SARL|S\\.p\\.A\\.|SpA|Srl|BV|B\\.V\\.|NV|N\\.V\\.|AB|ASA|A/S|Oy|Oyj|Plc|PLC|LLP|"
	"Pty|Group|Holdings|Technologies|Systems|Solutions|Software|Labs|Partners|Associates|Bank|"
	"University|College|Institute|Foundation|Hospital|Clinic|Orchestra|Agency|Council|Ministry|"
	"Consulting|Industries|Enterprises|Ventures|Capital|Studios|Networks|Pharmaceuticals|"
	"Airlines|Motors";

/* Suffixes that describe rather than name: left out of the span. */
static const char ORG_DESCRIPTIVE[] =
	"Group Holdings Technologies Systems Solutions Software Labs Partners Associates Bank "
	"University College Institute Foundation Hospital Clinic Orchestra Agency Council Ministry "
	"Consulting Industries Enterprises Ventures Capital Studios Networks Pharmaceuticals "
	"Airlines Motors";

/* Words seen capitalized that are not names (sentence starts, headings,
 * greetings, weekdays, months, form labels). */
static const char COMMON_CAP[] =
	"i the a an this that these those it he she we they you my your our their his her its in on "
	"at for with and but or so not no yes hi hello hey thanks thank dear sorry please happy good "
	"great just here there what when where why how who which sure ok okay glad fine well also "
	"still now then today tomorrow yesterday tonight monday tuesday wednesday thursday friday "
	"saturday sunday january february march april may june july august september october "
	"november december mr mrs ms dr sir madam customer service services support team experience "
	"manager director department office company account address phone email e-mail name date "
	"time subject note notes answer question title from to re fw fwd cc bcc street road avenue "
	"city state country website personal info information billing shipping regards best cheers "
	"sincerely kind warm love hope welcome congratulations attention important urgent new old "
	"first last next previous mister miss doctor professor patient user admin guest everyone "
	"all any some every each other another such many much more most few several one two three "
	"four five ten hundred thousand god lord nope wow oh ah um let lets can could would should "
	"will shall might must do does did done is are was were be been being have has had get got "
	"going go come looking trying writing calling sending interested available confirm "
	"confirmed mobile cell fax tel call contact home work business university school college "
	"hospital clinic bank inc ltd llc group unfortunately yours truly english spanish french "
	"german internet web online pm am apt suite unit box yeah yep hmm however therefore "
	"moreover although because since if unless while after before during about above below "
	"between into through over under again further once both only own same than too very "
	"really maybe perhaps probably definitely certainly absolutely actually basically honestly "
	"seriously anyway everything nothing something anything someone anyone nobody somebody "
	"everybody blah yours faithfully cordially respectfully best-regards xoxo ps p.s. "
	"morning afternoon evening night week month year day weekend holiday christmas easter "
	"north south east west central upper lower greater saint st mount lake river street "
	"packager clerk engineer specialist administrator assistant officer executive president "
	"chairman ceo cto cfo founder owner staff member members student teacher nurse sales "
	"marketing finance legal hr it operations product products order orders invoice payment "
	"delivery package item items price total amount balance card credit debit number code "
	"password username login id ssn dob age zip postcode true false null none unknown n/a nan";

static const char STOPWORDS[] =
	"a about above after again against all am an and any are as at be because been before being "
	"below between both but by can could did do does doing down during each few for from further "
	"had has have having he her here hers herself him himself his how i if in into is it its "
	"itself just me more most my myself no nor not now of off on once only or other our ours "
	"ourselves out over own same she should so some such than that the their theirs them "
	"themselves then there these they this those through to too under until up very was we were "
	"what when where which while who whom why will with would you your yours yourself yourselves "
	"page screen button form field details credentials information info please reset changed "
	"change expired link failed attempt attempts required name names url urls manager policy "
	"protected hint field";

/* --- word sets -------------------------------------------------------------- */

struct wordset {
	char **w;
	size_t n;
	int fold;         /* compare ASCII case-insensitively */
	uint32_t *slot;   /* open addressing: index + 1, 0 empty */
	uint32_t *slen;   /* per slot: the length of its word */
	size_t mask;
};

static uint32_t word_hash(const char *s, size_t n, int fold)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (fold && c >= 'A' && c <= 'Z')
			c = (unsigned char)(c + 32);
		h = (h ^ c) * 16777619u;
	}
	return h;
}

/* Splits list at sep (and, for '|' lists, drops regex escapes). */
/* Set when a word list could not be built whole: the scanner then refuses to
 * start (pii_lexicon_patterns) rather than check names against part of it. */
static int ws_nomem;

static void wordset_build(struct wordset *ws, const char *list, char sep, int fold)
{
	size_t cap = 16, size = 16;
	const char *p = list;
	ws->w = malloc(cap * sizeof(char *));
	ws->n = 0;
	ws->fold = fold;
	while (ws->w && *p) {
		const char *q = strchr(p, sep);
		size_t len = q ? (size_t)(q - p) : strlen(p);
		char *word = malloc(len + 1), *o = word;
		if (!word) {
			ws_nomem = 1;
			break;
		}
		for (size_t i = 0; i < len; i++)
			if (p[i] != '\\')
				*o++ = p[i];
		*o = '\0';
		if (ws->n == cap) {
			char **nw = realloc(ws->w, cap * 2 * sizeof(char *));
			if (!nw) {
				free(word);
				ws_nomem = 1;
				break;
			}
			ws->w = nw;
			cap *= 2;
		}
		if (*word)
			ws->w[ws->n++] = word;
		else
			free(word);
		p = q ? q + 1 : p + len;
	}
	while (size < ws->n * 2)
		size *= 2;
	ws->slot = calloc(size, sizeof(uint32_t));
	ws->slen = calloc(size, sizeof(uint32_t));
	if (!ws->w || !ws->slot || !ws->slen) {
		free(ws->slot);
		free(ws->slen);
		ws->slot = ws->slen = NULL;
		ws_nomem = 1;
	}
	ws->mask = size - 1;
	for (size_t i = 0; ws->slot && i < ws->n; i++) {
		size_t l = strlen(ws->w[i]);
		size_t h = word_hash(ws->w[i], l, fold) & ws->mask;
		while (ws->slot[h])
			h = (h + 1) & ws->mask;
		ws->slot[h] = (uint32_t)i + 1;
		ws->slen[h] = (uint32_t)l;
	}
}

/* strncasecmp for ASCII letters, inline: the lists are ASCII-folded */
static int fold_eq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x + 32);
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y + 32);
		if (x != y)
			return 0;
	}
	return 1;
}

static int wordset_has(const struct wordset *ws, const char *s, size_t n)
{
	size_t h;
	if (!ws->slot || n == 0)
		return 0;
	h = word_hash(s, n, ws->fold) & ws->mask;
	while (ws->slot[h]) {
		const char *w = ws->w[ws->slot[h] - 1];
		if (ws->slen[h] == n && (ws->fold ? fold_eq(w, s, n) : !memcmp(w, s, n)))
			return 1;
		h = (h + 1) & ws->mask;
	}
	return 0;
}

static struct wordset ws_first, ws_ambig, ws_surname, ws_places, ws_nrp, ws_common, ws_stop,
	ws_orgsfx, ws_orgdesc;
/* places, NRP and company suffixes in one set (all compared exactly): what
 * not_a_name asks of every token of every name, one lookup instead of three */
static struct wordset ws_notname;
static pthread_once_t ws_once = PTHREAD_ONCE_INIT;
static char (*stop16)[16];  /* ws_stop's words, zero-padded, by index */

static void build_sets(void)
{
	wordset_build(&ws_first, FIRST_NAMES, ' ', 0);
	wordset_build(&ws_ambig, AMBIGUOUS_FIRST, ' ', 0);
	wordset_build(&ws_surname, SURNAMES, ' ', 0);
	wordset_build(&ws_places, COUNTRIES, '|', 0);
	wordset_build(&ws_nrp, NRP, '|', 0);
	wordset_build(&ws_common, COMMON_CAP, ' ', 1);
	wordset_build(&ws_stop, STOPWORDS, ' ', 1);
	/* the stopwords (lower case, at most 16 bytes) padded to 16 */
	stop16 = calloc(ws_stop.n ? ws_stop.n : 1, sizeof(*stop16));
	if (!stop16)
		ws_nomem = 1;
	for (size_t i = 0; stop16 && i < ws_stop.n; i++) {
		size_t l = strlen(ws_stop.w[i]);
		if (l > 16)
			ws_nomem = 1;  /* the list has none: a bug to find at once */
		else
			memcpy(stop16[i], ws_stop.w[i], l);
	}
	wordset_build(&ws_orgsfx, ORG_SUFFIX, '|', 0);
	wordset_build(&ws_orgdesc, ORG_DESCRIPTIVE, ' ', 0);
	{
		size_t a = strlen(COUNTRIES), b = strlen(NRP), c = strlen(ORG_SUFFIX);
		char *all = malloc(a + b + c + 3);
		if (!all) {
			ws_nomem = 1;
			return;
		}
		memcpy(all, COUNTRIES, a);
		all[a] = '|';
		memcpy(all + a + 1, NRP, b);
		all[a + 1 + b] = '|';
		memcpy(all + a + b + 2, ORG_SUFFIX, c + 1);
		wordset_build(&ws_notname, all, '|', 0);
		free(all);
	}
}

int pii_is_stopword(const char *s, size_t n)
{
	pthread_once(&ws_once, build_sets);
	return wordset_has(&ws_stop, s, n);
}

/* Called for every word before a finding, by a scanner, whose making built
 * the sets (pii_lexicon_patterns): no pthread_once here.  The stopwords are
 * lower case, as s is. */
int pii_is_stopword_lower(const char *s, size_t n, uint32_t h)
{
	size_t i;
	uint64_t a0, a1, m0, m1;
	if (!ws_stop.slot || n == 0 || n > 16)
		return 0;
	/* the word's 16 bytes against a stopword's, zero-padded (stop16),
	 * masked to n: no call per compare */
	memcpy(&a0, s, 8);
	memcpy(&a1, s + 8, 8);
	m0 = n >= 8 ? ~0ULL : (1ULL << (8 * n)) - 1;
	m1 = n <= 8 ? 0 : n >= 16 ? ~0ULL : (1ULL << (8 * (n - 8))) - 1;
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	m0 = __builtin_bswap64(m0);
	m1 = __builtin_bswap64(m1);
#endif
	for (i = h & ws_stop.mask; ws_stop.slot[i]; i = (i + 1) & ws_stop.mask) {
		const char *w = stop16[ws_stop.slot[i] - 1];
		uint64_t b0, b1;
		if (ws_stop.slen[i] != n)
			continue;
		memcpy(&b0, w, 8);
		memcpy(&b1, w + 8, 8);
		if (!((a0 ^ b0) & m0) && !((a1 ^ b1) & m1))
			return 1;
	}
	return 0;
}

int pii_is_common_capitalized(const char *s, size_t n)
{
	pthread_once(&ws_once, build_sets);
	return wordset_has(&ws_common, s, n);
}

int pii_is_first_name(const char *s, size_t n)
{
	pthread_once(&ws_once, build_sets);
	return wordset_has(&ws_first, s, n) || wordset_has(&ws_ambig, s, n);
}

/* --- checkers ---------------------------------------------------------------- */

static int upper_at(const char *t, size_t len, size_t i);
static int all_upper(const char *t, size_t s, size_t e);

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The tokens of [a, b): offsets of up to max tokens split at white space. */
static size_t tokens(const char *t, size_t a, size_t b, size_t *ts, size_t *te, size_t max)
{
	size_t n = 0, i = a;
	while (i < b && n < max) {
		while (i < b && is_space(t[i]))
			i++;
		if (i >= b)
			break;
		ts[n] = i;
		while (i < b && !is_space(t[i]))
			i++;
		te[n++] = i;
	}
	return n;
}

static size_t strip_punct(const char *t, size_t s, size_t e)
{
	while (e > s && strchr(".,;:!?'\"", t[e - 1]))
		e--;
	return e;
}

/* Token i of ts/te is in set: as it stands (word_is), or without trailing
 * punctuation (word_in). */
static int word_is(const struct wordset *set, const char *t, const size_t *ts, const size_t *te,
		   size_t i)
{
	return wordset_has(set, t + ts[i], te[i] - ts[i]);
}

static int word_in(const struct wordset *set, const char *t, const size_t *ts, const size_t *te,
		   size_t i)
{
	return wordset_has(set, t + ts[i], strip_punct(t, ts[i], te[i]) - ts[i]);
}

/* A checker's tokens of t[a, b) (8 at most), the word sets built first. */
static size_t cue_tokens(const char *t, size_t a, size_t b, size_t *ts, size_t *te)
{
	pthread_once(&ws_once, build_sets);
	return tokens(t, a, b, ts, te, 8);
}

/* Ends the match [a, *b) before trailing punctuation; 0 when nothing is left. */
static int end_before_punct(const char *t, size_t a, size_t *b)
{
	*b = strip_punct(t, a, *b);
	return *b > a;
}

/* A token that cannot be part of a person's name. */
static int not_a_name(const char *t, size_t s, size_t e)
{
	e = strip_punct(t, s, e);
	if (e <= s)
		return 1;
	return wordset_has(&ws_common, t + s, e - s) || wordset_has(&ws_notname, t + s, e - s);
}

/* Trims trailing tokens that are not name parts; 0 when none is left. */
static int trim_name(const char *t, size_t *a, size_t *b)
{
	size_t ts[8], te[8], n = tokens(t, *a, *b, ts, te, 8);
	while (n > 0 && not_a_name(t, ts[n - 1], te[n - 1]))
		n--;
	if (n == 0)
		return 0;
	*b = strip_punct(t, ts[0], te[n - 1]);
	return *b > *a;
}

static int chk_name_cue(const char *t, size_t len, size_t *a, size_t *b, float *sc)
{
	size_t ts[8], te[8], n;
	(void)len;
	(void)sc;
	n = cue_tokens(t, *a, *b, ts, te);
	if (n == 0 || not_a_name(t, ts[0], te[0]))
		return 0;
	return trim_name(t, a, b);
}

/* A gazetteer first name: keep the surname that follows, drop an ambiguous
 * first name that stands alone. */
static int chk_name_gaz(const char *t, size_t len, size_t *a, size_t *b, float *sc)
{
	size_t ts[8], te[8], n;
	(void)len;
	pthread_once(&ws_once, build_sets);
	if (!trim_name(t, a, b))
		return 0;
	n = tokens(t, *a, *b, ts, te, 8);
	if (n >= 2)
		*sc += 0.1f;
	else if (word_is(&ws_ambig, t, ts, te, 0))
		return 0;
	return 1;
}

/* A known surname: the name is the capitalized word before it and it. */
static int chk_name_sur(const char *t, size_t len, size_t *a, size_t *b, float *sc)
{
	size_t j = *a, we;
	(void)b;
	(void)sc;
	pthread_once(&ws_once, build_sets);
	if (j == 0 || (t[j - 1] != ' ' && t[j - 1] != '\t'))
		return 0;
	while (j > 0 && (t[j - 1] == ' ' || t[j - 1] == '\t'))
		j--;
	we = j;
	while (j > 0 && !isspace((unsigned char)t[j - 1]) && !strchr(",.;:!?()\"", t[j - 1]))
		j--;
	if (we - j < 2 || !upper_at(t, len, j) || all_upper(t, j, we) || not_a_name(t, j, we))
		return 0;
	*a = j;
	return 1;
}

static int chk_place_cue(const char *t, size_t len, size_t *a, size_t *b, float *sc)
{
	size_t ts[8], te[8], n;
	(void)len;
	(void)sc;
	n = cue_tokens(t, *a, *b, ts, te);
	if (n == 0)
		return 0;
	if (word_in(&ws_common, t, ts, te, 0) || word_is(&ws_nrp, t, ts, te, 0))
		return 0;
	if (n == 1 && (word_is(&ws_first, t, ts, te, 0) || word_is(&ws_ambig, t, ts, te, 0)))
		return 0;
	return end_before_punct(t, *a, b);
}

/* A company suffix: the name is up to four capitalized words before it,
 * without leading sentence words ("The", "At"). */
static int chk_org(const char *t, size_t len, size_t *a, size_t *b, float *sc)
{
	size_t ts[8], te[8], n, i = 0, j = *a, start = *a;
	(void)sc;
	pthread_once(&ws_once, build_sets);
	for (int w = 0; w < 4; w++) {
		size_t k = j, we;
		while (k > 0 && (t[k - 1] == ' ' || t[k - 1] == '\t'))
			k--;
		if (k == j || k == 0)
			break;
		if (w == 0 && t[k - 1] == ',')
			k--;
		we = k;
		while (k > 0 && !isspace((unsigned char)t[k - 1]) && !strchr(",;:!?()\"", t[k - 1]))
			k--;
		if (we <= k || !upper_at(t, len, k))
			break;
		start = j = k;
	}
	if (start == *a)
		return 0;
	*a = start;
	n = tokens(t, *a, *b, ts, te, 8);
	while (i < n && (word_in(&ws_common, t, ts, te, i) || word_is(&ws_first, t, ts, te, i)) &&
	       !word_in(&ws_orgsfx, t, ts, te, i))
		i++;
	if (i >= n || (i == n - 1 && word_in(&ws_orgsfx, t, ts, te, i)))
		return 0;
	*a = ts[i];
	/* "Exversion Orchestra": the name is Exversion */
	if (n - i >= 2 && word_in(&ws_orgdesc, t, ts, te, n - 1))
		*b = te[n - 2];
	*b = strip_punct(t, *a, *b);
	if (*b > *a && t[*b - 1] == ',')
		(*b)--;
	return *b > *a;
}

static int chk_org_cue(const char *t, size_t len, size_t *a, size_t *b, float *sc)
{
	size_t ts[8], te[8], n;
	(void)len;
	(void)sc;
	n = cue_tokens(t, *a, *b, ts, te);
	if (n == 0 || word_in(&ws_common, t, ts, te, 0) || word_in(&ws_places, t, ts, te, 0))
		return 0;
	if (n == 1 && word_is(&ws_first, t, ts, te, 0))
		return 0;
	return end_before_punct(t, *a, b);
}

/* --- addresses -------------------------------------------------------------- */

static int upper_at(const char *t, size_t len, size_t i)
{
	uint32_t cp;
	int l = utf8_decode((const unsigned char *)t + i, len - i, &cp);
	if (l <= 0)
		return 0;
	return utf8proc_category((utf8proc_int32_t)cp) == UTF8PROC_CATEGORY_LU;
}

/* Every letter of the token is upper case (a city or a region code). */
static int all_upper(const char *t, size_t s, size_t e)
{
	int letters = 0;
	for (size_t i = s; i < e;) {
		uint32_t cp;
		int l = utf8_decode((const unsigned char *)t + i, e - i, &cp);
		int cat;
		if (l <= 0)
			return 0;
		cat = utf8proc_category((utf8proc_int32_t)cp);
		if (cat == UTF8PROC_CATEGORY_LL)
			return 0;
		if (cat == UTF8PROC_CATEGORY_LU)
			letters++;
		i += (size_t)l;
	}
	return letters >= 2;
}

static int digits_only(const char *t, size_t s, size_t e)
{
	if (e <= s)
		return 0;
	for (size_t i = s; i < e; i++)
		if (t[i] < '0' || t[i] > '9')
			return 0;
	return 1;
}

/*
 * A street address runs on: a unit (Apt. 4), a city in capitals or a known
 * place, a region code, a postal code, a country, on the same line or the
 * next lines of one block.  Also takes the house number in front.
 */
int pii_chk_address(const char *t, size_t len, size_t *a, size_t *b, float *sc)
{
	size_t i = *b, taken = 0;
	(void)sc;
	pthread_once(&ws_once, build_sets);
	/* a house number before "74 Diakou Street" or "Koskikatu 25" */
	{
		size_t j = *a;
		while (j > 0 && (t[j - 1] == ' ' || t[j - 1] == '\t'))
			j--;
		if (j < *a) {
			size_t k = j;
			while (k > 0 && t[k - 1] >= '0' && t[k - 1] <= '9')
				k--;
			if (k < j && j - k <= 6 && (k == 0 || !isalnum((unsigned char)t[k - 1])))
				*a = k;
		}
	}
	while (taken < 8 && i < len) {
		size_t j = i, ts, te, nl = 0;
		while (j < len && (t[j] == ' ' || t[j] == '\t' || t[j] == '\n' || t[j] == '\r' ||
				   t[j] == ',')) {
			nl += t[j] == '\n';
			j++;
		}
		if (nl > 1 || j >= len || j - i > 12)
			break;
		ts = j;
		while (j < len && !isspace((unsigned char)t[j]) && t[j] != ',')
			j++;
		te = j;
		{
			size_t core = strip_punct(t, ts, te);
			int sentence_end = core < te && strchr(".?!", t[core]) && (te - core) >= 1 &&
					   !(core - ts <= 4 && t[core] == '.');
			int ok = 0;
			if ((core - ts == 3 || core - ts == 4 || core - ts == 5 || core - ts == 6) &&
			    wordset_has(&ws_common, t + ts, core - ts) &&
			    (!strncasecmp(t + ts, "apt", 3) || !strncasecmp(t + ts, "suite", 5) ||
			     !strncasecmp(t + ts, "unit", 4))) {
				/* a unit and its number */
				size_t k = te;
				while (k < len && (t[k] == ' ' || t[k] == '#'))
					k++;
				if (k < len && isdigit((unsigned char)t[k])) {
					while (k < len && isalnum((unsigned char)t[k]))
						k++;
					te = core = k;
					ok = 1;
				}
			} else if (digits_only(t, ts, core) && core - ts >= 3 && core - ts <= 6) {
				ok = 1;
			} else if (core - ts == 3 && !strncmp(t + ts, "nan", 3)) {
				ok = 1;
			} else if (all_upper(t, ts, core) && !wordset_has(&ws_common, t + ts, core - ts)) {
				ok = 1;
			} else if (upper_at(t, len, ts) &&
				   (wordset_has(&ws_places, t + ts, core - ts) ||
				    (!wordset_has(&ws_common, t + ts, core - ts) &&
				     !wordset_has(&ws_first, t + ts, core - ts) &&
				     !wordset_has(&ws_nrp, t + ts, core - ts) && nl == 0 && taken < 3))) {
				ok = 1;
			} else if (t[ts] == '(' && core > ts + 1 && t[core - 1] == ')' &&
				   wordset_has(&ws_nrp, t + ts + 1, core - ts - 2)) {
				ok = 1;
			}
			if (!ok)
				break;
			*b = core;
			taken++;
			i = te;
			if (sentence_end)
				break;
		}
	}
	return *b > *a;
}

int pii_chk_street(const char *t, size_t len, size_t *a, size_t *b, float *sc)
{
	size_t j = *a, words = 0;
	pthread_once(&ws_once, build_sets);
	/* 1 to 4 capitalized words, an optional N/S/E/W, then the number */
	for (;;) {
		size_t k = j, we;
		if (k == 0 || t[k - 1] != ' ')
			return 0;
		k--;
		we = k;
		while (k > 0 && t[k - 1] != ' ' && t[k - 1] != '\n' && t[k - 1] != '\t')
			k--;
		if (we <= k)
			return 0;
		if (digits_only(t, k, we) && we - k <= 6) {
			if (!words)
				return 0;
			*a = k;
			break;
		}
		if (!upper_at(t, len, k) || ++words > 5)
			return 0;
		j = k;
	}
	return pii_chk_address(t, len, a, b, sc);
}

/* --- lists of names ------------------------------------------------------------ */

int pii_person_list_next(const char *t, size_t len, size_t end, size_t *na, size_t *nb)
{
	size_t i = end, ts, te, n = 0;
	pthread_once(&ws_once, build_sets);
	if (i < len && t[i] == ',')
		i++;
	while (i < len && t[i] == ' ')
		i++;
	if (i + 4 <= len && !strncmp(t + i, "and ", 4))
		i += 4;
	else if (i + 2 <= len && !strncmp(t + i, "& ", 2))
		i += 2;
	else if (i == end || t[end] != ',')
		return 0;
	while (i < len && t[i] == ' ')
		i++;
	ts = i;
	/* one or two capitalized words */
	for (int w = 0; w < 2 && i < len && upper_at(t, len, i); w++) {
		size_t s0 = i, e0;
		while (i < len && !isspace((unsigned char)t[i]) && !strchr(",.;:!?()\"", t[i]))
			i++;
		e0 = i;
		if (e0 - s0 < 2 || not_a_name(t, s0, e0) || all_upper(t, s0, e0))
			break;
		te = e0;
		n++;
		if (i + 1 < len && t[i] == ' ' && upper_at(t, len, i + 1))
			i++;
		else
			break;
	}
	if (!n)
		return 0;
	*na = ts;
	*nb = te;
	return 1;
}

/* --- building the patterns --------------------------------------------------- */

static size_t longest(const char *list, char sep)
{
	size_t best = 0, cur = 0;
	for (const char *p = list;; p++) {
		if (*p == sep || !*p) {
			if (cur > best)
				best = cur;
			cur = 0;
			if (!*p)
				break;
		} else {
			cur++;
		}
	}
	return best;
}

static char *cat(const char *a, const char *b, const char *c, const char *d, const char *e)
{
	char *s;
	if (asprintf(&s, "%s%s%s%s%s", a, b, c, d, e) < 0)
		return NULL;
	return s;
}

#define TOK "(?:\\p{Lu}\\p{Ll}[\\p{L}'\xE2\x80\x99-]*|\\p{Lu}'\\p{Lu}\\p{Ll}+)"
#define NAME TOK "(?:[ \\t]+(?:\\p{Lu}\\.?[ \\t]+)?" TOK "){0,2}(?:[ \\t]+(?:II|III|IV|Jr\\.?|Sr\\.?))?"
/* a place: capitalized words, with particles only between them ("Rio de
 * Janeiro", "Frankfurt am Main"; not "Paris la" from "Paris last year") */
#define LOC "(?:\\p{Lu}[\\p{L}'\xE2\x80\x99.-]*\\p{L}|\\p{Lu}{2,})(?:(?:[ \\t-](?:de|del|da|di|du|la|le|am|an|" \
	"upon|sur)){0,2}[ \\t-](?:\\p{Lu}[\\p{L}'\xE2\x80\x99.-]*\\p{L}|\\p{Lu}{2,})){0,3}"
#define ORGNAME "\\p{Lu}[\\p{L}&'\xE2\x80\x99.-]*(?:(?:,[ \\t]*|[ \\t]+(?:and|&)[ \\t]+|[ \\t]+|-)\\p{Lu}[\\p{L}&'\xE2\x80\x99.-]*){0,4}"
#define HONORIFIC "mr|mrs|ms|miss|mx|dr|prof|sir|dame|lady|lord|rev|herr|frau|mme|mlle|sra|sig"
#define STRONG_CUE "my name is|my name's|name is|call me|named|called|name *:|dear|signed|thanks|" \
	"thank you|cheers|thx|last name\\??|first name\\??|full name\\??|surname\\??|last name is|" \
	"surname is|first name is"
#define SIGN_CUE "regards|sincerely|best wishes|all the best|best|love|yours truly|yours|" \
	"affectionately|take care|warmly|respectfully|faithfully|cordially|with love|hugs"
#define WEAK_CUE "i'?m|i am|this is|hi|hello|hey|by|kid|son|daughter|wife|husband|brother|sister|" \
	"mother|father|mom|dad|friend|boss|patient|colleague|ask for|speak to|speak with|meet|met|" \
	"says|said|features|featuring|follow up with|talk to|talked to|married to|assistant to"
#define LIST_CUE "founders|co-founders|members|children|kids|sons|daughters|students|employees|" \
	"authors|partners|sisters|brothers|friends|siblings|parents|guests|speakers|winners|" \
	"they had \\d+|we had \\d+"
#define NAME_VERB "said|says|lives|lived|was born|works|worked|flew|wrote|told|asked|replied|" \
	"had given|has given|gave|is from|was from|listed|spent|has been|went|came|sent|emailed|" \
	"texted|joined|left|moved|married|died|passed away"
#define PLACE_CUE "where *:|grew up in|home city|hometown|home town|moved here from|live in|lives in|living in|lived in|based in|born in|moved to|move to|moving to|" \
	"flew to|fly to|flying to|travel to|travelled to|traveled to|travelling to|traveling to|" \
	"visit|visited|visiting|located in|i'?m in|i am in|we'?re in|originally from|comes from|" \
	"come from|i'?m from|i am from|city of|town of|heading to|trip to|vacation in|holiday in|" \
	"staying in|stay in|arrived in|departing from|relocated to|resides in|reside in"
#define ORG_CUE "works for|work for|worked for|working for|works at|work at|worked at|working at|" \
	"employed by|employed at|employee of|joined|the address of|contract with|customer of|" \
	"client of|on behalf of"
#define ORG_NOUN "multinational|company|firm|corporation|startup|non-profit|nonprofit|brand|" \
	"manufacturer|retailer|bank|agency|organi[sz]ation|business|conglomerate|enterprise"

static struct pii_pattern *lex;
static size_t n_lex;
static int lex_nomem;  /* a pattern could not be made: the lexicon is refused */
static pthread_once_t lex_once = PTHREAD_ONCE_INIT;

/* Adds a pattern; NULL when re or trig could not be made (out of memory). */
static struct pii_pattern *add_lex(const char *ent, const char *name, char *re, char *trig,
				   float score, size_t back, unsigned flags, unsigned group,
				   pii_checker chk)
{
	struct pii_pattern *p = &lex[n_lex];
	if (!re || !trig) {
		lex_nomem = 1;
		return NULL;
	}
	p->entity = ent;
	p->name = name;
	p->regex = re;
	p->trigger = trig;
	p->score = score;
	p->back = (unsigned short)(back > 65535 ? 65535 : back);
	p->flags = (unsigned char)flags;
	p->group = (unsigned char)group;
	p->validate = NULL;
	p->check = chk;
	p->gaz = NULL;
	p->gaz_sep = 0;
	p->cue = NULL;
	p->gate = NULL;
	n_lex++;
	return p;
}

/* A pattern without a Hyperscan trigger: a gazetteer's or a cue list's. */
static struct pii_pattern *add_untriggered(const char *ent, const char *name, char *re, float score,
					   unsigned flags, unsigned group, pii_checker chk)
{
	static char none[] = "";
	struct pii_pattern *p = add_lex(ent, name, re, none, score, 0, flags, group, chk);
	if (p)
		p->trigger = NULL;
	return p;
}

/* A pattern of cue words before a name: found from the capital letter back
 * (pii_scan.c), no Hyperscan trigger. */
static void add_cue(const char *ent, const char *name, char *re, const char *cue, float score,
		    unsigned flags, pii_checker chk)
{
	struct pii_pattern *p = add_untriggered(ent, name, re, score, flags, 1, chk);
	if (p)
		p->cue = cue;
}

static int blank(char c)
{
	return c == ' ' || c == '\t';
}

/* The start of the run of non-blanks that ends at i. */
static size_t token_start(const char *t, size_t i)
{
	while (i > 0 && !blank(t[i - 1]))
		i--;
	return i;
}

static int has_upper(const char *t, size_t a, size_t b)
{
	for (size_t q = a; q < b; q++) {
		unsigned char c = (unsigned char)t[q];
		if ((c >= 'A' && c <= 'Z') || (c >= 0xC3 && c <= 0xF4))
			return 1;
	}
	return 0;
}

/*
 * The gate of "name before a verb", whose trigger is the verb with the space
 * before it (end: after the verb): the token before the blanks before the
 * verb must hold an upper-case byte, as the name's last word does.  Tried
 * for the verb's last word and, for a two-word verb ("was born"), its first;
 * passing either is a superset of the exact condition.  Every word of a name
 * (three words, two initials, "Jr.") starts with a capital letter, so PCRE2
 * starts at the earliest of the (at most six) runs of non-blanks before the
 * verb that each hold an upper-case byte.
 */
static int gate_name_verb(const char *t, size_t len, size_t end, size_t *from)
{
	size_t w = end;
	(void)len;
	for (int words = 0; words < 2; words++) {
		size_t p, q;
		while (w > 0 && t[w - 1] >= 'a' && t[w - 1] <= 'z')
			w--;
		if (w == 0 || t[w - 1] != ' ')
			return 0;
		p = w - 1;
		while (p > 0 && blank(t[p - 1]))
			p--;
		q = token_start(t, p);
		if (p > q && has_upper(t, q, p)) {
			size_t a = q;
			for (int k = 1; k < 6; k++) {
				size_t pe = a, ps;
				while (pe > 0 && blank(t[pe - 1]))
					pe--;
				ps = token_start(t, pe);
				if (pe == a || pe == ps || !has_upper(t, ps, pe))
					break;
				a = ps;
			}
			if (a > *from)
				*from = a;
			return 1;
		}
		w = w - 1;  /* the word before: a two-word verb's first */
	}
	return 0;
}

/*
 * The gate of "the X office", whose trigger is the noun with the space
 * before it: the run of non-blanks before that space starts with a capital
 * letter (or a byte that can start one) after "The " at a word boundary;
 * PCRE2 starts at "The".
 */
static int gate_the_x(const char *t, size_t len, size_t end, size_t *from)
{
	size_t ns = end, ts;
	unsigned char c;
	(void)len;
	while (ns > 0 && t[ns - 1] >= 'a' && t[ns - 1] <= 'z')
		ns--;
	if (ns < 2 || t[ns - 1] != ' ')
		return 0;
	ts = ns - 1;
	while (ts > 0 && t[ts - 1] != ' ')
		ts--;
	c = (unsigned char)t[ts];
	if (ts + 1 >= ns || !((c >= 'A' && c <= 'Z') || (c >= 0xC3 && c <= 0xF4)))
		return 0;
	if (ts < 4 || memcmp(t + ts - 4, "The ", 4) ||
	    (ts > 4 && (pii_ascii_alnum((unsigned char)t[ts - 5]) || t[ts - 5] == '_')))
		return 0;
	if (ts - 4 > *from)
		*from = ts - 4;
	return 1;
}

/*
 * The gate of "organisation described", whose trigger is the noun: before
 * its blanks, "a" or "an" after " is " or " was " (blank before), with at
 * most two runs of non-blanks between ("is a large German company").
 */
static int gate_org_described(const char *t, size_t len, size_t end, size_t *from)
{
	size_t p = end;
	(void)len;
	(void)from;
	while (p > 0 && ((t[p - 1] >= 'a' && t[p - 1] <= 'z') || t[p - 1] == '-'))
		p--;
	for (int words = 0; words <= 2; words++) {
		size_t q, q0;
		if (p == 0 || !blank(t[p - 1]))
			return 0;
		q = p;
		while (q > 0 && blank(t[q - 1]))
			q--;
		q0 = q;
		while (q0 > 0 && !blank(t[q0 - 1]))
			q0--;
		if (t[q0] == 'a' && (q - q0 == 1 || (q - q0 == 2 && t[q0 + 1] == 'n')) && q0 > 0 &&
		    t[q0 - 1] == ' ') {
			if (q0 >= 4 && t[q0 - 2] == 's' && t[q0 - 3] == 'i' && blank(t[q0 - 4]))
				return 1;
			if (q0 >= 5 && t[q0 - 2] == 's' && t[q0 - 3] == 'a' && t[q0 - 4] == 'w' &&
			    blank(t[q0 - 5]))
				return 1;
		}
		p = q0;
	}
	return 0;
}

/*
 * A gazetteer pattern: its entries that start with a capital letter are found
 * by looking capitalized words up in a hash (pii_scan.c); suffix is a PCRE2
 * expression matched anchored where the entry ends, and the finding spans the
 * entry and what the suffix matched.
 */
static void add_gaz(const char *ent, const char *name, const char *list, char sep,
		    const char *suffix, float score, pii_checker chk)
{
	struct pii_pattern *p = add_untriggered(ent, name, strdup(suffix), score, P_UTF, 0, chk);
	if (p) {
		p->gaz = list;
		p->gaz_sep = sep;
	}
}

/* The entries of a list that do not start with a capital letter, as an
 * alternation (NULL when there are none, or when out of memory: lex_nomem). */
static char *uncased(const char *list, char sep)
{
	struct buf b = BUF_INIT;
	const char *q = list;
	int n = 0;
	buf_adds(&b, "(?:");
	while (*q) {
		size_t l = strcspn(q, sep == '|' ? "|" : " ");
		uint32_t cp = 0;
		if (l && utf8_decode((const unsigned char *)q, l, &cp) > 0 &&
		    utf8proc_category((utf8proc_int32_t)cp) != UTF8PROC_CATEGORY_LU) {
			if (n++)
				buf_addch(&b, '|');
			buf_add(&b, q, l);
		}
		q += l;
		if (*q)
			q++;
	}
	buf_addch(&b, ')');
	if (buf_failed(&b))
		lex_nomem = 1;
	if (!n || buf_failed(&b)) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

static void build_lex(void)
{
	/* "FIRST_NAMES AMBIGUOUS_FIRST", both lists with their NULs counted */
	static char gaz_first[sizeof(FIRST_NAMES) + sizeof(AMBIGUOUS_FIRST)];
	pthread_once(&ws_once, build_sets);
	memcpy(gaz_first, FIRST_NAMES, sizeof(FIRST_NAMES) - 1);
	gaz_first[sizeof(FIRST_NAMES) - 1] = ' ';
	memcpy(gaz_first + sizeof(FIRST_NAMES), AMBIGUOUS_FIRST, sizeof(AMBIGUOUS_FIRST));
	lex = calloc(24, sizeof(*lex));
	if (!lex) {
		lex_nomem = 1;
		return;
	}

	add_cue("PERSON", "honorific and name",
		cat("(?<!\\p{L})(?i:" HONORIFIC ")\\.?[ \\t]+(", NAME, ")", "", ""), HONORIFIC, 0.7f,
		P_UTF, chk_name_cue);
	add_cue("PERSON", "name after a cue",
		cat("(?i:\\b(?:" STRONG_CUE "))[ \\t,.!:-]*(?:\\r?\\n[ \\t-]*)?(", NAME, ")", "", ""),
		STRONG_CUE, 0.6f, P_UTF, chk_name_cue);
	add_cue("PERSON", "signature",
		cat("(?i:\\b(?:" SIGN_CUE "))[ \\t]*[,.!]?[ \\t]*(?:\\r?\\n|[,-])[ \\t\\r\\n-]*(", NAME, ")",
		    "", ""),
		SIGN_CUE, 0.6f, P_UTF, chk_name_cue);
	add_cue("PERSON", "name after a weak cue",
		cat("(?i:\\b(?:" WEAK_CUE "))[ \\t,]+(", NAME, ")", "", ""), WEAK_CUE, 0.45f, P_UTF,
		chk_name_cue);
	add_gaz("PERSON", "known first name", gaz_first, ' ',
		"(?:[ \\t]+(?:\\p{Lu}\\.?[ \\t]+)?" TOK "){0,2}(?:[ \\t]+(?:II|III|IV|Jr\\.?|Sr\\.?))?(?!\\p{L})",
		0.5f, chk_name_gaz);
	add_gaz("PERSON", "known surname", SURNAMES, ' ', "(?!\\p{L})", 0.55f, chk_name_sur);
	add_cue("PERSON", "first name of a list",
		cat("(?i:\\b(?:" LIST_CUE "))[ \\t]*:[ \\t]*(", NAME, ")", "", ""), LIST_CUE, 0.5f, P_UTF,
		chk_name_cue);
	/* "The X office" needs the capitalized word before the noun in its
	 * trigger; "name before a verb" has the verb as its trigger and the
	 * capitalized word before it checked by its gate (both end where the
	 * old " office" / " said" triggers did, same back). */
	{
		struct pii_pattern *p = add_lex(
			"ORGANIZATION", "the X office",
			cat("\\bThe (", TOK,
			    ")(?= (?:office|offices|headquarters|team|board|staff|company|brand)\\b)", "", ""),
			cat(" (?:office|offices|headquarters|team|board|staff|company|brand)\\b", "", "", "",
			    ""),
			0.45f, 40, P_UTF, 1, chk_org_cue);
		if (p)
			p->gate = gate_the_x;
	}
	{
		struct pii_pattern *p = add_lex(
			"PERSON", "name before a verb",
			cat("(?<!\\p{L})(", NAME, ")(?=[ \\t]+(?:" NAME_VERB ")\\b)", "", ""),
			cat(" (?:" NAME_VERB ")\\b", "", "", "", ""), 0.5f, 60, P_UTF, 1, chk_name_cue);
		if (p)
			p->gate = gate_name_verb;
	}

	add_gaz("LOCATION", "known place", COUNTRIES, '|', "(?!\\p{L})", 0.5f, NULL);
	{
		/* places written in scripts without case go to Hyperscan */
		char *nocase = uncased(COUNTRIES, '|');
		if (nocase)
			add_lex("LOCATION", "known place (no case)",
				cat("(?<!\\p{L})", nocase, "(?!\\p{L})", "", ""), nocase, 0.5f,
				longest(COUNTRIES, '|') + 1, P_UTF, 0, NULL);
	}
	add_cue("LOCATION", "place after a cue", cat("(?i:\\b(?:" PLACE_CUE "))[ \\t]+(", LOC, ")", "", ""),
		PLACE_CUE, 0.5f, P_UTF, chk_place_cue);

	add_gaz("ORGANIZATION", "name with a company suffix", ORG_SUFFIX, '|', "(?!\\p{L})\\.?", 0.55f,
		chk_org);
	add_cue("ORGANIZATION", "organisation after a cue",
		cat("(?i:\\b(?:" ORG_CUE "))[ \\t]+(", ORGNAME, ")", "", ""), ORG_CUE, 0.5f, P_UTF,
		chk_org_cue);
	{
		struct pii_pattern *p = add_lex(
			"ORGANIZATION", "organisation described",
			cat("(?<!\\p{L})(", ORGNAME, ")(?=[ \\t]+(?:is|was) an?[ \\t]+(?:[\\p{L}-]+[ \\t]+){0,2}(?:"
			    ORG_NOUN ")\\b)", "", ""),
			cat("\\b(?:" ORG_NOUN ")\\b", "", "", "", ""), 0.55f, 100, P_UTF, 1, chk_org_cue);
		if (p)
			p->gate = gate_org_described;
	}

	add_gaz("NRP", "nationality, religion or party", NRP, '|', "(?!\\p{L})", 0.5f, NULL);
}

int pii_lexicon_patterns(pii_add_fn add, void *ctx)
{
	pthread_once(&lex_once, build_lex);
	if (!lex || n_lex == 0 || lex_nomem || ws_nomem)
		return -1;
	for (size_t i = 0; i < n_lex; i++)
		if (add(ctx, &lex[i]) < 0)
			return -1;
	return 0;
}
