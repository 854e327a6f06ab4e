"""The portal's search: forms and articles together (/pesquisa), and the articles suggested
while someone types (the request form's Descrição, the agents' "Inserir artigo")."""
